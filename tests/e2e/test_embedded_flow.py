"""The payment path end to end in the embedded platform: order, checkout, webhook, ledger."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from bwai_cli.embedded import Platform

from tests.e2e.conftest import new_client
from tests.e2e.flow import (
    create_order,
    ledger_of,
    pay_in_sandbox,
    start_payment,
    token_for,
    wait_for_order_status,
)


@pytest.mark.parametrize("provider", ["nowpayments", "coinbase_commerce"])
async def test_paid_order_posts_ledger_once(
    embedded: Platform, http: httpx.AsyncClient, provider: str
) -> None:
    """A checkout paid in full in the sandbox ends paid, with the money in the ledger once."""
    api = embedded.api_url
    auth = await token_for(http, api, *await new_client(embedded, "acme", "tenant"))
    order = await create_order(http, api, auth)
    payment = await start_payment(http, api, auth, order["id"], provider)

    await pay_in_sandbox(http, embedded.sandbox_url, payment, delivery={"duplicates": 2})
    paid = await wait_for_order_status(http, api, auth, order["id"], {"paid"})
    ledger = await ledger_of(http, api, auth, order["id"])

    assert paid["status"] == "paid"
    assert len(ledger) == 1
    assert Decimal(ledger[0]["amount"]) > 0


async def test_tenant_cannot_read_other_tenants_order(
    embedded: Platform, http: httpx.AsyncClient
) -> None:
    api = embedded.api_url
    owner = await token_for(http, api, *await new_client(embedded, "owner-shop", "tenant"))
    stranger = await token_for(http, api, *await new_client(embedded, "other-shop", "tenant"))
    order = await create_order(http, api, owner)

    response = await http.get(f"{api}/v1/orders/{order['id']}", headers=stranger)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_readyz_reports_every_service(embedded: Platform, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{embedded.api_url}/readyz")

    assert response.status_code == 200
    assert set(response.json()["services"]) == {"identity", "webhooks-ingest", "payments"}


async def test_orders_need_a_token(embedded: Platform, http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"{embedded.api_url}/v1/orders", json={"amount": "1.00", "currency": "USD"}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
