"""Reconciliation runs against a real PostgreSQL: outcomes, day boundaries, precision, reruns."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import asyncpg
import pytest
from bwai_core.clock import FrozenClock
from bwai_payments.reconciliation import repository
from bwai_payments.reconciliation.errors import DayNotReconcilable
from bwai_payments.reconciliation.service import run_reconciliation
from bwai_web.service import ServiceContext
from reconciliation_seed import DAY, Side, at, provider_record, seed_internal


async def _records(pool: asyncpg.Pool, run_id: object) -> dict[str, asyncpg.Record]:
    rows = await pool.fetch("SELECT * FROM reconciliation_records WHERE run_id = $1", run_id)
    return {row["provider_payment_id"]: row for row in rows}


async def _event_types(pool: asyncpg.Pool) -> list[str]:
    return [r["event_type"] for r in await pool.fetch("SELECT event_type FROM outbox ORDER BY id")]


async def test_every_outcome_is_recorded(ctx: ServiceContext) -> None:
    pool = ctx.pool
    matched = Side("1001")
    only_ours = Side("1003")
    paid_differs = Side("1004")
    currency_differs = Side("1005")
    status_differs = Side("1006", status="confirming")
    settled_differs = Side("1007")
    for side in (matched, only_ours, paid_differs, currency_differs, status_differs):
        await seed_internal(pool, side)
    await seed_internal(pool, settled_differs)
    provider = [
        provider_record(matched),
        provider_record(Side("1002")),
        provider_record(replace(paid_differs, paid=Decimal("0.002"))),
        provider_record(replace(currency_differs, pay_currency="eth")),
        provider_record(replace(status_differs, status="finished")),
        provider_record(replace(settled_differs, outcome=Decimal("0.00090"))),
    ]

    run = await run_reconciliation(ctx, "nowpayments", DAY, records=provider)

    records = await _records(pool, run["id"])
    assert records["1001"]["outcome"] == "matched"
    assert records["1002"]["outcome"] == "missing_internally"
    assert records["1003"]["outcome"] == "missing_at_provider"
    assert records["1004"]["outcome"] == "amount_mismatch"
    assert records["1004"]["differences"] == ["actually_paid"]
    assert records["1005"]["outcome"] == "currency_mismatch"
    assert records["1006"]["outcome"] == "status_mismatch"
    assert records["1007"]["outcome"] == "amount_mismatch"
    assert records["1007"]["differences"] == ["outcome_amount"]
    assert run["total"] == 7
    assert run["matched"] == 1
    assert run["mismatch_rate"] == Decimal("0.857142857142857143")  # 6/7 at 18 places
    assert run["status"] == "completed"
    assert "payments.reconciliation.completed" in await _event_types(pool)


async def test_day_boundary_splits_without_loss(ctx: ServiceContext) -> None:
    pool = ctx.pool
    last_instant = Side("2001", changed_at=at(23, 59, 59, 999999))
    next_midnight = Side("2002", changed_at=at(0, day=DAY + timedelta(days=1)))
    for side in (last_instant, next_midnight):
        await seed_internal(pool, side)
    ctx.clock = FrozenClock(at(12, day=DAY + timedelta(days=2)))

    first = await run_reconciliation(
        ctx, "nowpayments", DAY, records=[provider_record(last_instant)]
    )
    second = await run_reconciliation(
        ctx, "nowpayments", DAY + timedelta(days=1), records=[provider_record(next_midnight)]
    )

    assert list(await _records(pool, first["id"])) == ["2001"]
    assert list(await _records(pool, second["id"])) == ["2002"]
    assert first["matched"] == 1
    assert second["matched"] == 1


async def test_record_outside_day_is_rejected(ctx: ServiceContext) -> None:
    outside = Side("2003", changed_at=at(0, day=DAY + timedelta(days=1)))

    with pytest.raises(DayNotReconcilable):
        await run_reconciliation(ctx, "nowpayments", DAY, records=[provider_record(outside)])

    status = await ctx.pool.fetchval("SELECT status FROM reconciliation_runs")
    assert status == "failed"


async def test_payment_listed_twice_is_rejected(ctx: ServiceContext) -> None:
    record = provider_record(Side("2004", changed_at=at(12)))

    with pytest.raises(DayNotReconcilable):
        await run_reconciliation(ctx, "nowpayments", DAY, records=[record, record])

    assert await ctx.pool.fetchval("SELECT count(*) FROM reconciliation_records") == 0
    assert await ctx.pool.fetchval("SELECT status FROM reconciliation_runs") == "failed"


async def test_ninth_decimal_matters_only_for_eth(ctx: ServiceContext) -> None:
    pool = ctx.pool
    btc = Side("3001", paid=Decimal("0.123456781"), outcome=None, outcome_currency=None)
    eth = Side(
        "3002",
        pay_currency="eth",
        paid=Decimal("0.123456781"),
        outcome=None,
        outcome_currency=None,
    )
    for side in (btc, eth):
        await seed_internal(pool, side)
    provider = [
        provider_record(replace(btc, paid=Decimal("0.123456784"))),
        provider_record(replace(eth, paid=Decimal("0.123456784"))),
    ]

    run = await run_reconciliation(ctx, "nowpayments", DAY, records=provider)

    records = await _records(pool, run["id"])
    assert records["3001"]["outcome"] == "matched"
    assert records["3002"]["outcome"] == "amount_mismatch"


async def test_rerun_adds_version_and_keeps_resolution(ctx: ServiceContext) -> None:
    pool = ctx.pool
    await seed_internal(pool, Side("4001"))
    records = [provider_record(Side("4001")), provider_record(Side("4002"))]
    first = await run_reconciliation(ctx, "nowpayments", DAY, records=records)
    missing = (await _records(pool, first["id"]))["4002"]
    async with pool.acquire() as conn:
        await repository.resolve_record(
            conn, missing["id"], note="test payment", actor="ops", now=ctx.clock.now()
        )

    second = await run_reconciliation(ctx, "nowpayments", DAY, records=records)

    assert (first["version"], second["version"]) == (1, 2)
    assert second["total"] == first["total"] == 2
    again = await _records(pool, second["id"])
    assert again["4002"]["resolution_note"] == "test payment"
    assert again["4001"]["resolved_at"] is None
    async with pool.acquire() as conn:
        now = ctx.clock.now()
        totals = await repository.window_totals(conn, now - timedelta(hours=24), now)
    assert totals[:2] == (2, 1)


async def test_state_without_webhook_time_falls_back_to_deposit(ctx: ServiceContext) -> None:
    side = Side("5001", changed_at=at(8))
    await seed_internal(ctx.pool, side, with_state=False)

    run = await run_reconciliation(ctx, "nowpayments", DAY, records=[])

    records = await _records(ctx.pool, run["id"])
    assert records["5001"]["outcome"] == "missing_at_provider"
    assert records["5001"]["internal_changed_at"] == at(8)
