"""Injected create failures and the request log that lets tests count provider calls."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import CB_HEADERS, NP_HEADERS, Receiver, create_charge, create_invoice

INVOICE = {"price_amount": 10, "price_currency": "usd", "order_id": "ORD-F"}


async def arm(client: httpx.AsyncClient, **fault: object) -> None:
    response = await client.post("/sandbox/v1/faults", json=fault)
    assert response.status_code == 201, response.text


async def invoices_for(client: httpx.AsyncClient, order_id: str) -> list[dict[str, object]]:
    response = await client.get(
        "/nowpayments/v1/invoice", params={"order_id": order_id}, headers=NP_HEADERS
    )
    data: list[dict[str, object]] = response.json()["data"]
    return data


async def test_refuse_creates_nothing(sandbox: httpx.AsyncClient) -> None:
    await arm(sandbox, provider="nowpayments", mode="refuse")

    response = await sandbox.post("/nowpayments/v1/invoice", json=INVOICE, headers=NP_HEADERS)

    assert response.status_code == 503
    assert response.json()["statusCode"] == 503
    assert await invoices_for(sandbox, "ORD-F") == []


async def test_error_500_hits_only_count_requests(sandbox: httpx.AsyncClient) -> None:
    await arm(sandbox, provider="nowpayments", mode="error_500", count=2)

    codes = [
        (
            await sandbox.post("/nowpayments/v1/invoice", json=INVOICE, headers=NP_HEADERS)
        ).status_code
        for _ in range(3)
    ]

    assert codes == [500, 500, 201]
    assert len(await invoices_for(sandbox, "ORD-F")) == 1


async def test_error_500_after_create_keeps_the_checkout(sandbox: httpx.AsyncClient) -> None:
    await arm(sandbox, provider="coinbase", mode="error_500_after_create")

    response = await sandbox.post(
        "/coinbase/charges",
        json={
            "name": "x",
            "pricing_type": "fixed_price",
            "local_price": {"amount": "5", "currency": "USD"},
        },
        headers=CB_HEADERS,
    )

    listing = await sandbox.get("/coinbase/charges", headers=CB_HEADERS)
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "internal_server_error"
    assert len(listing.json()["data"]) == 1


async def test_timeout_after_create_leaves_invoice_to_find(sandbox: httpx.AsyncClient) -> None:
    await arm(sandbox, provider="nowpayments", mode="timeout_after_create", hang_seconds=1.0)

    with pytest.raises(httpx.ReadTimeout):
        await sandbox.post("/nowpayments/v1/invoice", json=INVOICE, headers=NP_HEADERS, timeout=0.3)

    found = await invoices_for(sandbox, "ORD-F")
    assert len(found) == 1
    assert found[0]["order_id"] == "ORD-F"


async def test_fault_for_one_provider_spares_the_other(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    await arm(sandbox, provider="coinbase", mode="refuse")

    await create_invoice(sandbox, receiver)
    refused = await sandbox.post("/coinbase/charges", json={}, headers=CB_HEADERS)

    assert refused.status_code == 503


async def test_request_log_records_each_create(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    await create_invoice(sandbox, receiver)
    await create_charge(sandbox)
    await sandbox.get("/nowpayments/v1/status")

    creates = await sandbox.get(
        "/sandbox/v1/requests", params={"method": "POST", "provider": "nowpayments"}
    )
    everything = await sandbox.get("/sandbox/v1/requests")

    records = creates.json()["data"]
    assert [(r["method"], r["path"], r["status_code"]) for r in records] == [
        ("POST", "/nowpayments/v1/invoice", 201)
    ]
    assert [r["path"] for r in everything.json()["data"]] == [
        "/nowpayments/v1/invoice",
        "/coinbase/charges",
        "/nowpayments/v1/status",
    ]


async def test_reset_forgets_checkouts_and_log(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    await create_invoice(sandbox, receiver)

    response = await sandbox.post("/sandbox/v1/reset")

    assert response.status_code == 204
    assert await invoices_for(sandbox, "ORD-1") == []
    log = (await sandbox.get("/sandbox/v1/requests", params={"method": "POST"})).json()
    assert log["data"] == []
