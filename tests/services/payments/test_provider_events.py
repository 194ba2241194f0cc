"""Provider events through the consumer: matching, parking, foreign events, ledger, storm."""

from __future__ import annotations

import asyncio
import random
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from bwai_messaging.bus import Delivery
from bwai_messaging.consumer import EventConsumer
from bwai_messaging.envelope import Event, new_event
from bwai_messaging.errors import RetryLater
from bwai_payments.provider_events.consumers import PROVIDER_EVENT_RECEIVED, provider_event_handler
from bwai_web.service import ServiceContext

ORDER = {"amount": "50.00", "currency": "USD"}
D = Decimal


def headers(token: str, key: str | None = None) -> dict[str, str]:
    result = {"Authorization": f"Bearer {token}"}
    if key is not None:
        result["Idempotency-Key"] = key
    return result


async def new_payment(
    api: httpx.AsyncClient, token: str, provider: str = "nowpayments"
) -> dict[str, Any]:
    order = (
        await api.post("/v1/orders", json=ORDER, headers=headers(token, uuid.uuid4().hex))
    ).json()
    response = await api.post(
        f"/v1/orders/{order['id']}/payments",
        json={"provider": provider, "pay_currency": "btc"},
        headers=headers(token, uuid.uuid4().hex),
    )
    payment: dict[str, Any] = response.json()
    return payment


def np_event(
    ctx: ServiceContext,
    payment: dict[str, Any],
    status: str,
    paid: str,
    deposit: str = "9001",
    parent: str | None = None,
) -> Event:
    data = {
        "delivery_id": str(uuid.uuid4()),
        "provider": "nowpayments",
        "provider_event_id": f"{deposit}:{status}:{paid}",
        "event_type": f"payment.{status}",
        "provider_status": status,
        "status_context": None,
        "checkout_id": payment["provider_checkout_id"],
        "provider_payment_id": deposit,
        "parent_payment_id": parent,
        "merchant_reference": payment["id"],
        "pay_currency": "btc",
        "pay_amount": "0.001",
        "actually_paid": paid,
        "price_amount": "50",
        "price_currency": "usd",
        "outcome_amount": None,
        "outcome_currency": None,
        "confirmations": None,
        "occurred_at": "2026-01-15T12:00:00Z",
        "received_at": "2026-01-15T12:00:00Z",
    }
    return new_event(
        PROVIDER_EVENT_RECEIVED,
        data,
        source="/services/webhooks-ingest",
        clock=ctx.clock,
        subject=deposit,
    )


def consumer(ctx: ServiceContext) -> EventConsumer:
    handlers = {PROVIDER_EVENT_RECEIVED: provider_event_handler(ctx)}
    return EventConsumer("payments", ctx.pool, ctx.schemas, handlers, queue="payments")


async def deliver(ctx: ServiceContext, event: Event, attempt: int = 1) -> None:
    await consumer(ctx)(Delivery(event.to_bytes(), event.id, attempt))


async def ledger_total(ctx: ServiceContext, payment_id: str) -> Decimal:
    total: Decimal = await ctx.pool.fetchval(
        "SELECT COALESCE(sum(amount), 0) FROM transactions WHERE payment_id = $1",
        uuid.UUID(payment_id),
    )
    return total


async def test_finished_payment_posts_once_and_pays_order(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    payment = await new_payment(api, token)

    for status in ("waiting", "confirming", "confirmed", "sending", "finished"):
        await deliver(ctx, np_event(ctx, payment, status, "0" if status == "waiting" else "0.001"))

    read = (await api.get(f"/v1/payments/{payment['id']}", headers=headers(token))).json()
    order = (await api.get(f"/v1/orders/{read['order_id']}", headers=headers(token))).json()
    ledger = (
        await api.get(f"/v1/orders/{read['order_id']}/transactions", headers=headers(token))
    ).json()
    assert read["status"] == "paid"
    assert read["actually_paid"] == "0.001"
    assert read["outcome"] == "exact"
    assert order["status"] == "paid"
    assert len(ledger["items"]) == 1
    assert ledger["items"][0]["amount"] == "0.001"
    assert D(ledger["items"][0]["fiat_amount"]) == D("50")
    assert ledger["items"][0]["debit_account"] == "provider_balance:nowpayments"


async def test_status_changes_are_published(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    payment = await new_payment(api, make_token(tenant="t1"))

    await deliver(ctx, np_event(ctx, payment, "confirming", "0.001"))
    await deliver(ctx, np_event(ctx, payment, "confirmed", "0.001"))
    await deliver(ctx, np_event(ctx, payment, "finished", "0.001"))

    rows = await ctx.pool.fetch(
        "SELECT payload FROM outbox WHERE event_type = "
        "'payments.payment.status_changed' ORDER BY id"
    )
    changes = [Event.from_bytes(bytes(r["payload"])).data for r in rows]
    transitions = [(c["previous_status"], c["status"], c["provider_status"]) for c in changes]
    assert transitions == [
        ("pending", "confirming", "confirming"),
        ("confirming", "confirming", "confirmed"),
        ("confirming", "paid", "finished"),
    ]
    assert [c["amount_posted"] for c in changes] == ["0.001", "0", "0"]
    assert changes[-1]["status"] == "paid"
    assert changes[-1]["order_status"] == "paid"


async def test_late_failed_does_not_undo_paid(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    payment = await new_payment(api, token)

    await deliver(ctx, np_event(ctx, payment, "finished", "0.001"))
    await deliver(ctx, np_event(ctx, payment, "failed", "0"))

    read = (await api.get(f"/v1/payments/{payment['id']}", headers=headers(token))).json()
    assert read["status"] == "paid"
    assert await ledger_total(ctx, payment["id"]) == D("0.001")


async def test_partial_payment_is_recorded(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    payment = await new_payment(api, token)

    await deliver(ctx, np_event(ctx, payment, "partially_paid", "0.0004"))

    read = (await api.get(f"/v1/payments/{payment['id']}", headers=headers(token))).json()
    order = (await api.get(f"/v1/orders/{read['order_id']}", headers=headers(token))).json()
    assert read["status"] == "partially_paid"
    assert read["outcome"] == "underpaid"
    assert read["actually_paid"] == "0.0004"
    assert order["status"] == "partially_paid"


async def test_repeated_deposit_makes_order_overpaid(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    payment = await new_payment(api, token)

    await deliver(ctx, np_event(ctx, payment, "finished", "0.001"))
    await deliver(ctx, np_event(ctx, payment, "finished", "0.0002", deposit="9002", parent="9001"))

    read = (await api.get(f"/v1/payments/{payment['id']}", headers=headers(token))).json()
    order = (await api.get(f"/v1/orders/{read['order_id']}", headers=headers(token))).json()
    assert read["actually_paid"] == "0.0012"
    assert read["outcome"] == "overpaid"
    assert len(read["deposits"]) == 2
    assert order["status"] == "overpaid"
    assert await ledger_total(ctx, payment["id"]) == D("0.0012")


async def test_unknown_payment_with_our_reference_is_parked(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    payment = {
        "id": str(uuid.UUID(int=(0x7 << 76) | (0b10 << 62) | 1234)),
        "provider_checkout_id": "777",
    }
    event = np_event(ctx, payment, "finished", "0.001")

    with pytest.raises(RetryLater):
        await deliver(ctx, event)

    parked = await ctx.pool.fetchrow("SELECT * FROM parked_provider_events")
    assert parked is not None
    assert parked["provider_event_id"] == "9001:finished:0.001"
    assert await ctx.pool.fetchval("SELECT count(*) FROM inbox") == 0
    assert await ctx.pool.fetchval("SELECT count(*) FROM transactions") == 0


async def test_foreign_event_is_kept_and_acknowledged(ctx: ServiceContext) -> None:
    event = np_event(
        ctx, {"id": "ORD-2024-000123", "provider_checkout_id": "4522625843"}, "finished", "0.001"
    )

    await deliver(ctx, event)

    row = await ctx.pool.fetchrow("SELECT * FROM foreign_provider_events")
    assert row is not None
    assert row["reason"] == "reference is not ours"
    assert await ctx.pool.fetchval("SELECT count(*) FROM transactions") == 0


@pytest.mark.slow
async def test_storm_of_500_events_gives_exact_ledger(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    payments = [await new_payment(api, token) for _ in range(50)]
    rng = random.Random(20260115)
    expected: dict[str, Decimal] = {}
    events: list[Event] = []
    for index, payment in enumerate(payments):
        paid = D("0.001") if index % 3 else D("0.0004")
        final = "finished" if index % 3 else "partially_paid"
        steps = [
            ("waiting", D(0)),
            ("confirming", paid),
            ("confirmed", paid),
            ("sending", paid),
            (final, paid),
            ("failed", D(0)),
        ]
        own = [np_event(ctx, payment, s, format(a, "f"), deposit=f"d{index}") for s, a in steps]
        extra = D("0.0001") if index % 5 == 0 else D(0)
        if extra:
            own.append(
                np_event(
                    ctx, payment, "finished", "0.0001", deposit=f"r{index}", parent=f"d{index}"
                )
            )
        expected[payment["id"]] = paid + extra
        # Every event is delivered once or more (bus redelivery), 10 per payment on average.
        events += own + [rng.choice(own) for _ in range(10 - len(own))]
    rng.shuffle(events)
    assert len(events) == 500

    queue: asyncio.Queue[Event] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)
    handler = consumer(ctx)

    async def worker() -> None:
        while not queue.empty():
            event = queue.get_nowait()
            await handler(Delivery(event.to_bytes(), event.id, 1))

    await asyncio.wait_for(asyncio.gather(worker(), worker()), timeout=120)

    for payment_id, amount in expected.items():
        assert await ledger_total(ctx, payment_id) == amount, payment_id
    postings = await ctx.pool.fetchval("SELECT count(*) FROM transactions")
    assert postings == 50 + sum(1 for i in range(50) if i % 5 == 0)
