"""The hosted checkout page, driven as a browser would with form posts."""

from __future__ import annotations

import json

import httpx
from sandbox_helpers import Receiver, create_charge, create_invoice


async def test_nowpayments_page_shows_amount_and_buttons(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)

    response = await sandbox.get(f"/checkout/nowpayments/{invoice_id}")

    assert response.status_code == 200
    assert "3999.5 USD" in response.text
    for outcome in ("full", "partial", "over", "expire"):
        assert f'value="{outcome}"' in response.text
    assert f'action="/checkout/nowpayments/{invoice_id}/pay"' in response.text


async def test_nowpayments_form_full_payment_links_to_success_url(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)

    response = await sandbox.post(
        f"/checkout/nowpayments/{invoice_id}/pay", data={"outcome": "full", "pay_currency": "eth"}
    )
    received = await receiver.wait_for(5, "/nowpayments")

    assert response.status_code == 200
    assert 'href="http://127.0.0.1:8000/ok"' in response.text
    assert json.loads(received[-1].body)["pay_currency"] == "eth"


async def test_coinbase_form_expire_links_to_cancel_url(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    charge = await create_charge(sandbox)

    response = await sandbox.post(
        f"/checkout/coinbase/{charge['code']}/pay", data={"outcome": "expire"}
    )

    assert response.status_code == 200
    assert "EXPIRED" in response.text
    assert 'href="http://127.0.0.1:8000/cancel"' in response.text


async def test_form_with_invalid_amount_shows_error(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)

    response = await sandbox.post(
        f"/checkout/nowpayments/{invoice_id}/pay", data={"outcome": "partial", "amount": "lots"}
    )

    assert response.status_code == 400
    assert "is not a decimal number" in response.text
    assert receiver.received == []


async def test_unknown_checkout_not_found(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.get("/checkout/coinbase/NOPE1234")

    assert response.status_code == 404
