"""The 24-hour mismatch alert: above 0.1% raises one alert per breach."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import asyncpg
from bwai_payments.reconciliation.models import ProviderRecord
from bwai_payments.reconciliation.service import run_reconciliation
from bwai_web.service import ServiceContext
from reconciliation_seed import DAY, Side, at, provider_record

ALERT = "payments.reconciliation.alert_raised"


async def _seed_matching(pool: asyncpg.Pool, count: int) -> list[ProviderRecord]:
    """Seed `count` payments on both sides at once (one COPY-free batch of inserts)."""
    await pool.execute(
        """
        WITH o AS (
            INSERT INTO orders (id, tenant_id, amount, currency, status, created_at, updated_at)
            SELECT gen_random_uuid(), 'acme', 10, 'USD', 'paid', $1, $1
            FROM generate_series(1, $2) RETURNING id
        ), p AS (
            INSERT INTO payments (id, order_id, tenant_id, provider, provider_checkout_id,
                checkout_url, status, created_at, updated_at)
            SELECT gen_random_uuid(), o.id, 'acme', 'nowpayments', o.id::text, 'u', 'paid', $1, $1
            FROM o RETURNING id, provider_checkout_id
        )
        INSERT INTO provider_deposits (provider, provider_payment_id, payment_id,
            provider_status, status_rank, status, pay_currency, actually_paid, created_at,
            updated_at)
        SELECT 'nowpayments', 'n' || row_number() OVER (), p.id, 'finished', 6, 'paid', 'btc',
               0, $1, $1
        FROM p
        """,
        at(10),
        count,
    )
    side = Side("", paid=Decimal(0), outcome=None, outcome_currency=None)
    return [provider_record(replace(side, payment_id=f"n{i}")) for i in range(1, count + 1)]


async def _alerts(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE event_type = $1", ALERT)
    return count


async def test_rate_at_threshold_raises_nothing(ctx: ServiceContext) -> None:
    records = await _seed_matching(ctx.pool, 999)
    records.append(provider_record(Side("extra")))

    run = await run_reconciliation(ctx, "nowpayments", DAY, records=records)

    assert run["mismatch_rate"] == Decimal("0.001")
    assert await _alerts(ctx.pool) == 0


async def test_rate_above_threshold_raises_once(ctx: ServiceContext) -> None:
    records = await _seed_matching(ctx.pool, 998)
    records += [provider_record(Side("extra-1")), provider_record(Side("extra-2"))]

    first = await run_reconciliation(ctx, "nowpayments", DAY, records=records)
    await run_reconciliation(ctx, "nowpayments", DAY, records=records)

    assert first["mismatch_rate"] == Decimal("0.002")
    assert await _alerts(ctx.pool) == 1


async def test_alert_raises_again_after_recovery(ctx: ServiceContext) -> None:
    records = await _seed_matching(ctx.pool, 998)
    broken = [*records, provider_record(Side("extra-1")), provider_record(Side("extra-2"))]
    await run_reconciliation(ctx, "nowpayments", DAY, records=broken)

    await run_reconciliation(ctx, "nowpayments", DAY, records=records)
    await run_reconciliation(ctx, "nowpayments", DAY, records=broken)

    assert await _alerts(ctx.pool) == 2


async def test_runs_outside_window_do_not_count(ctx: ServiceContext) -> None:
    old_day = DAY - timedelta(days=3)
    stale = Side("old", changed_at=at(10, day=old_day))

    await run_reconciliation(ctx, "nowpayments", old_day, records=[provider_record(stale)])

    assert await _alerts(ctx.pool) == 0
