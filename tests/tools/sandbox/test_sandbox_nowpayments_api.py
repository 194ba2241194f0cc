"""The NOWPayments API subset: invoices, payment status, auth and the payment list."""

from __future__ import annotations

import httpx
from bwai_core import jsonutil
from sandbox_helpers import NP_HEADERS, Receiver, create_invoice


async def test_invoice_create_returns_provider_shape(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    body = {
        "price_amount": 3999.5,
        "price_currency": "usd",
        "order_id": "ORD-1",
        "ipn_callback_url": f"{receiver.url}/nowpayments",
        "success_url": "http://127.0.0.1:8000/ok",
    }

    response = await sandbox.post("/nowpayments/v1/invoice", json=body, headers=NP_HEADERS)

    assert response.status_code == 201
    invoice = response.json()
    assert isinstance(invoice["id"], str)
    assert invoice["id"].isdigit()
    assert invoice["price_amount"] == "3999.5"
    assert invoice["order_id"] == "ORD-1"
    assert invoice["pay_currency"] is None
    assert invoice["invoice_url"] == f"http://127.0.0.1:8090/checkout/nowpayments/{invoice['id']}"
    assert invoice["created_at"].endswith("Z")


async def test_invoice_create_wrong_api_key_rejected(sandbox: httpx.AsyncClient) -> None:
    body = {"price_amount": 10, "price_currency": "usd", "order_id": "ORD-X"}

    wrong = await sandbox.post("/nowpayments/v1/invoice", json=body, headers={"x-api-key": "no"})
    missing = await sandbox.post("/nowpayments/v1/invoice", json=body)

    expected = {
        "status": False,
        "statusCode": 403,
        "code": "INVALID_API_KEY",
        "message": "Invalid api key",
    }
    assert wrong.status_code == 403
    assert wrong.json() == expected
    assert missing.status_code == 403
    assert missing.json() == expected
    lookup = await sandbox.get(
        "/nowpayments/v1/invoice", params={"order_id": "ORD-X"}, headers=NP_HEADERS
    )
    assert lookup.json() == {"data": []}


async def test_invoice_create_invalid_body_rejected(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post(
        "/nowpayments/v1/invoice", json={"price_currency": "usd"}, headers=NP_HEADERS
    )

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST_PARAMS"
    assert "price_amount" in response.json()["message"]


async def test_invoice_lookup_by_order_id(sandbox: httpx.AsyncClient, receiver: Receiver) -> None:
    first = await create_invoice(sandbox, receiver, order_id="ORD-7")
    await create_invoice(sandbox, receiver, order_id="ORD-8")

    response = await sandbox.get(
        "/nowpayments/v1/invoice", params={"order_id": "ORD-7"}, headers=NP_HEADERS
    )

    assert response.status_code == 200
    assert [i["id"] for i in response.json()["data"]] == [first]


async def test_payment_status_after_full_payment(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)
    paid = await sandbox.post(
        f"/sandbox/v1/checkouts/nowpayments/{invoice_id}/pay", json={"outcome": "full"}
    )
    payment_id = paid.json()["payment_id"]

    response = await sandbox.get(f"/nowpayments/v1/payment/{payment_id}", headers=NP_HEADERS)

    payment = jsonutil.loads_decimal(response.content)
    assert response.status_code == 200
    assert payment["payment_id"] == int(payment_id)
    assert payment["invoice_id"] == int(invoice_id)
    assert payment["payment_status"] == "finished"
    assert payment["actually_paid"] == payment["pay_amount"]
    assert payment["order_id"] == "ORD-1"


async def test_payment_status_unknown_id_not_found(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.get("/nowpayments/v1/payment/123", headers=NP_HEADERS)

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


async def test_payment_list_requires_bearer_token(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.get("/nowpayments/v1/payment/", headers=NP_HEADERS)

    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_REQUIRED"


async def test_auth_wrong_password_rejected(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post(
        "/nowpayments/v1/auth", json={"email": "merchant@example.test", "password": "wrong"}
    )

    assert response.status_code == 401
    assert "token" not in response.json()


async def test_payment_list_filters_by_order_id(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    ours = await create_invoice(sandbox, receiver, order_id="ORD-A")
    other = await create_invoice(sandbox, receiver, order_id="ORD-B")
    for invoice_id in (ours, other):
        await sandbox.post(
            f"/sandbox/v1/checkouts/nowpayments/{invoice_id}/pay", json={"outcome": "full"}
        )
    await sandbox.post(f"/sandbox/v1/checkouts/nowpayments/{ours}/deposit", json={})
    auth = await sandbox.post(
        "/nowpayments/v1/auth",
        json={"email": "merchant@example.test", "password": "sandbox-nowpayments-password"},
    )
    token = auth.json()["token"]

    response = await sandbox.get(
        "/nowpayments/v1/payment/",
        params={"orderId": "ORD-A", "limit": 10, "page": 0, "sortBy": "created_at"},
        headers=NP_HEADERS | {"Authorization": f"Bearer {token}"},
    )

    listing = response.json()
    assert response.status_code == 200
    assert listing["total"] == 2
    assert listing["pagesCount"] == 1
    assert {p["invoice_id"] for p in listing["data"]} == {int(ours)}
    assert sum(1 for p in listing["data"] if p["parent_payment_id"] is not None) == 1


async def test_status_answers_ok(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.get("/nowpayments/v1/status")

    assert response.json() == {"message": "OK"}
