"""A storm of duplicated, shuffled webhooks over two payments replicas on RabbitMQ."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e.distributed import DistributedStack, create_client_with_cli
from tests.e2e.flow import create_order, pay_in_sandbox, start_payment, token_for
from tests.e2e.ledger import (
    paid_per_payment,
    postings,
    repeated_posting_keys,
    wait_for_events_consumed,
    wait_for_statuses,
)
from tests.e2e.sandbox import checkout_id_of, paid_in_sandbox, wait_for_deliveries

pytestmark = pytest.mark.rabbitmq

# (provider, outcome, extra copies of each webhook, expected order status, payments).
# Each row sends ten deliveries per payment: NOWPayments plays five statuses for a full or
# over payment, Coinbase two events for full or over and one for partial.
STORM_PLAN = [
    ("nowpayments", "full", 1, "paid", 20),
    ("nowpayments", "over", 1, "overpaid", 5),
    ("coinbase_commerce", "full", 4, "paid", 15),
    ("coinbase_commerce", "over", 4, "overpaid", 5),
    ("coinbase_commerce", "partial", 9, "partially_paid", 5),
]
STORM_DELIVERIES = 500


async def test_storm_posts_exact_ledger(
    distributed: DistributedStack, http: httpx.AsyncClient
) -> None:
    """500 deliveries for 50 payments: every payment's postings sum to what was paid."""
    client = await create_client_with_cli(distributed.identity_database, "storm-shop", "tenant")
    auth = await token_for(http, distributed.identity.url, *client)
    consumed_before = [
        _consumed_lines(replica.log_path.read_text()) for replica in distributed.payments
    ]
    scenarios = await _start_payments(http, distributed, auth)

    results = await asyncio.gather(
        *(
            pay_in_sandbox(
                http,
                distributed.sandbox_url,
                s["payment"],
                outcome=s["outcome"],
                delivery={"duplicates": s["duplicates"], "shuffle": True, "seed": index},
            )
            for index, s in enumerate(scenarios)
        )
    )
    checkout_ids = {checkout_id_of(s["payment"]) for s in scenarios}
    deliveries = await wait_for_deliveries(http, distributed.sandbox_url, checkout_ids)
    expected_statuses = {s["order_id"]: s["status"] for s in scenarios}
    statuses = await wait_for_statuses(distributed.payments_database, expected_statuses)
    missing = await wait_for_events_consumed(
        distributed.webhooks_database, distributed.payments_database
    )

    rows = await postings(distributed.payments_database)
    ledger = await paid_per_payment(distributed.payments_database)
    paid = {
        s["payment"]["id"]: await paid_in_sandbox(http, distributed.sandbox_url, s["payment"])
        for s in scenarios
    }
    assert sum(len(result["deliveries"]) for result in results) == STORM_DELIVERIES
    assert {d["state"] for d in deliveries} == {"delivered"}
    assert missing == set()
    assert statuses == expected_statuses
    assert repeated_posting_keys(rows) == []
    assert {payment_id: ledger.get(payment_id, Decimal(0)) for payment_id in paid} == paid
    assert all(amount > 0 for amount in paid.values())
    for replica, before in zip(distributed.payments, consumed_before, strict=True):
        consumed = _consumed_lines(replica.log_path.read_text()) - before
        assert consumed > 0, f"{replica.name} consumed no storm event"


async def _start_payments(
    http: httpx.AsyncClient, distributed: DistributedStack, auth: dict[str, str]
) -> list[dict[str, Any]]:
    """Create an order and a checkout for every planned payment, alternating replicas."""
    plan = [
        (provider, outcome, duplicates, status)
        for provider, outcome, duplicates, status, count in STORM_PLAN
        for _ in range(count)
    ]
    replicas = distributed.payments

    async def start(
        index: int, provider: str, outcome: str, duplicates: int, status: str
    ) -> dict[str, Any]:
        api = replicas[index % len(replicas)].url
        order = await create_order(http, api, auth, amount="25.00")
        payment = await start_payment(http, api, auth, order["id"], provider)
        return {
            "order_id": order["id"],
            "payment": payment,
            "outcome": outcome,
            "duplicates": duplicates,
            "status": status,
        }

    return list(await asyncio.gather(*(start(i, *row) for i, row in enumerate(plan))))


def _consumed_lines(log: str) -> int:
    return log.count('"event": "event.consumed"')
