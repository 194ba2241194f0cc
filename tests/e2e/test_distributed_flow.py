"""The payment path with every service in its own process, on RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import httpx
import pytest

from tests.e2e.distributed import DistributedStack, create_client_with_cli
from tests.e2e.flow import (
    create_order,
    ledger_of,
    pay_in_sandbox,
    start_payment,
    token_for,
    wait_for_order_status,
)
from tests.e2e.ledger import postings, repeated_posting_keys, wait_for_statuses

pytestmark = pytest.mark.rabbitmq


@pytest.fixture(scope="module")
async def tenant_auth(distributed: DistributedStack) -> dict[str, str]:
    client = await create_client_with_cli(distributed.identity_database, "acme", "tenant")
    async with httpx.AsyncClient(timeout=30) as http:
        return await token_for(http, distributed.identity.url, *client)


@pytest.mark.parametrize("provider", ["nowpayments", "coinbase_commerce"])
async def test_distributed_payment_posts_once(
    distributed: DistributedStack,
    tenant_auth: dict[str, str],
    http: httpx.AsyncClient,
    provider: str,
) -> None:
    """Order on one payments replica, payment on the other, webhooks through webhooks-ingest."""
    first, second = distributed.payments
    order = await create_order(http, first.url, tenant_auth)
    payment = await start_payment(http, second.url, tenant_auth, order["id"], provider)

    await pay_in_sandbox(http, distributed.sandbox_url, payment, delivery={"duplicates": 2})
    paid = await wait_for_order_status(http, first.url, tenant_auth, order["id"], {"paid"})
    ledger = await ledger_of(http, second.url, tenant_auth, order["id"])

    assert paid["status"] == "paid"
    assert len(ledger) == 1
    assert Decimal(ledger[0]["amount"]) > 0


async def test_replicas_share_one_idempotency_key(
    distributed: DistributedStack, tenant_auth: dict[str, str], http: httpx.AsyncClient
) -> None:
    """The same order creation sent to both replicas at once creates one order."""
    key = str(uuid.uuid4())
    body = {"amount": "12.50", "currency": "USD", "description": "Replicated create"}
    headers = {**tenant_auth, "Idempotency-Key": key}
    replicas = distributed.payments * 5

    responses = await asyncio.gather(
        *(http.post(f"{child.url}/v1/orders", headers=headers, json=body) for child in replicas)
    )

    created = [r for r in responses if r.status_code == 201]
    assert {r.status_code for r in responses} <= {201, 409}
    assert len({r.json()["id"] for r in created}) == 1


async def test_replicas_settle_concurrent_payments_once(
    distributed: DistributedStack, tenant_auth: dict[str, str], http: httpx.AsyncClient
) -> None:
    """Ten checkouts paid at once, webhooks duplicated and shuffled, both replicas consuming."""
    first, second = distributed.payments
    orders = [await create_order(http, first.url, tenant_auth, amount="20.00") for _ in range(10)]
    payments = [
        await start_payment(http, second.url, tenant_auth, order["id"], provider)
        for order, provider in zip(orders, ["nowpayments", "coinbase_commerce"] * 5, strict=True)
    ]

    delivery = {"duplicates": 2, "shuffle": True, "seed": 7}
    await asyncio.gather(
        *(pay_in_sandbox(http, distributed.sandbox_url, p, delivery=delivery) for p in payments)
    )
    expected = {order["id"]: "paid" for order in orders}
    statuses = await wait_for_statuses(distributed.payments_database, expected)
    rows = [r for r in await postings(distributed.payments_database) if r["order_id"] in expected]

    assert statuses == expected
    assert sorted(r["order_id"] for r in rows) == sorted(expected)
    assert repeated_posting_keys(rows) == []
    for replica in distributed.payments:
        assert '"event.consumed"' in replica.log_path.read_text(), (
            f"{replica.name} consumed nothing"
        )
