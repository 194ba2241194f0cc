"""Reconciliation benchmark: 1,000,000 provider records against 1,000,000 internal payments.

Creates a fresh database on BWAI_BENCH_DATABASE_URL (default: the local PostgreSQL), fills our
side with SQL (orders, payments, deposits, one ledger posting and one provider state per
payment), then times, in one transaction as a run does:

1. COPY of the already-fetched provider records into the staging table;
2. the ceiling: a plain count(*) FULL OUTER JOIN of the staged records with the deposits;
3. the matching INSERT ... SELECT that writes one reconciliation record per payment.

About 1% of the records are seeded as mismatches of each kind. The database is dropped at the
end. Target: matching in at most 15 s on a 2-core machine. BWAI_BENCH_RECONCILE_RECORDS changes
the number of records (default 1,000,000).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from bwai_core.db import apply_migrations, create_pool, transaction
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_payments.definition import PAYMENTS_MIGRATIONS
from bwai_payments.reconciliation import matching, repository
from bwai_payments.reconciliation.models import DayWindow
from bwai_web.idempotency import IDEMPOTENCY_MIGRATIONS

from bench.run import machine

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_S = 15.0
DAY = date(2026, 1, 14)
PROVIDER = "nowpayments"
COPY_CHUNK = 100_000
PAID = Decimal("0.00123456")
SETTLED = Decimal("0.00120000")

# Our side for `n` payments, ids "1".."n". Deposits change status at 10:00 on the day.
_SEED = """
INSERT INTO orders (id, tenant_id, amount, currency, status, created_at, updated_at)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'bench', 10, 'USD',
       'paid', $1, $1
FROM generate_series(1, least($2::int, 1000)) g;

INSERT INTO payments (id, order_id, tenant_id, provider, provider_checkout_id,
    provider_payment_id, checkout_url, pay_currency, status, actually_paid, is_active,
    created_at, updated_at)
SELECT ('00000000-0001-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + g % least($2::int, 1000)), 12, '0'))::uuid,
       'bench', 'nowpayments', 'inv' || g, g::text, 'u', 'btc', 'paid', 0.00123456, false, $1, $1
FROM generate_series(1, $2::int) g;

INSERT INTO provider_deposits (provider, provider_payment_id, payment_id, provider_status,
    status_rank, status, pay_currency, actually_paid, created_at, updated_at)
SELECT 'nowpayments', g::text, ('00000000-0001-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'finished', 6, 'paid', 'btc', 0.00123456, $1, $1
FROM generate_series(1, $2::int) g;

INSERT INTO transactions (id, tenant_id, order_id, payment_id, kind, debit_account,
    credit_account, amount, currency, fiat_currency, paid_total, provider, provider_payment_id,
    provider_event_id, posting_key, created_at)
SELECT ('00000000-0002-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'bench',
       ('00000000-0000-7000-8000-' || lpad(to_hex(1 + g % least($2::int, 1000)), 12, '0'))::uuid,
       ('00000000-0001-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'payment_received',
       'provider', 'order', 0.00123456, 'btc', 'USD', 0.00123456, 'nowpayments', g::text,
       'e' || g, 'nowpayments:' || g, $1
FROM generate_series(1, $2::int) g;

INSERT INTO reconciliation_provider_states (provider, provider_payment_id, status_changed_at,
    outcome_amount, outcome_currency, provider_event_id, updated_at)
SELECT 'nowpayments', g::text, $1, 0.0012, 'btc', 'e' || g, $1
FROM generate_series(1, $2::int) g
"""


def provider_rows(count: int, changed_at: datetime) -> Iterator[tuple[Any, ...]]:
    """Yield staging rows: every 100th payment differs in one way, 1 in 1000 is missing."""
    reference = str(uuid.uuid4())
    for i in range(1, count + 1):
        payment_id = str(i)
        status, currency, paid, settled = "finished", "btc", PAID, SETTLED
        kind = i % 1000
        if kind == 1:
            payment_id = f"x{i}"  # missing internally; our payment i is missing at the provider
        elif kind == 2:
            paid = PAID + Decimal("0.00000001")
        elif kind == 3:
            currency = "eth"
        elif kind == 4:
            status = "partially_paid"
        elif kind == 5:
            paid = PAID + Decimal("0.000000001")  # differs in the 9th place: equal for BTC
        yield (payment_id, status, currency, paid, settled, "btc", changed_at, reference)


async def measure(dsn: str, count: int) -> list[str]:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        await apply_migrations(
            pool, [MESSAGING_MIGRATIONS, IDEMPOTENCY_MIGRATIONS, PAYMENTS_MIGRATIONS]
        )
        window = DayWindow(DAY)
        changed_at = window.start + timedelta(hours=10)
        started = time.perf_counter()
        async with pool.acquire() as conn:
            await conn.execute("SET statement_timeout = 0")
            for statement in _SEED.split(";\n\n"):
                await conn.execute(statement, changed_at, count, timeout=900)
            await conn.execute("VACUUM ANALYZE", timeout=900)
            # The pool's reset leaves session settings alone.
            await conn.execute("RESET statement_timeout")
        lines = [f"seed: {count} internal payments in {time.perf_counter() - started:.1f} s"]
        lines += await _timed_run(pool, window, count, changed_at)
    finally:
        await pool.close()
    return lines


async def _timed_run(
    pool: asyncpg.Pool, window: DayWindow, count: int, changed_at: datetime
) -> list[str]:
    async with transaction(pool) as conn:
        run = await repository.insert_run(
            conn,
            provider=PROVIDER,
            day=window.day,
            source="csv",
            trigger="cli",
            requested_by="bench",
            now=datetime.now(UTC),
        )
        await matching.create_staging(conn)
        copy_s = await _copy(conn, provider_rows(count, changed_at))

        ceiling_started = time.perf_counter()
        await conn.fetchval(
            f"SELECT count(*) FROM {matching.STAGING_TABLE} s FULL OUTER JOIN provider_deposits d"
            " ON d.provider = 'nowpayments' AND d.provider_payment_id = s.provider_payment_id",
            timeout=900,
        )
        ceiling_s = time.perf_counter() - ceiling_started

        match_started = time.perf_counter()
        counts = await matching.match(conn, run["id"], PROVIDER, window, None)
        match_s = time.perf_counter() - match_started
    verdict = "met" if match_s <= TARGET_S else "MISSED"
    return [
        f"copy: {count} provider records into staging in {copy_s:.2f} s",
        f"ceiling: count(*) full outer join of the same tables in {ceiling_s:.2f} s",
        f"matching: {sum(counts.values())} records in {match_s:.2f} s "
        f"({match_s / ceiling_s:.1f}x the ceiling); target <= {TARGET_S:.0f} s: {verdict}",
        "outcomes: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())),
        f"copy + matching: {copy_s + match_s:.2f} s",
    ]


async def _copy(conn: asyncpg.Connection, rows: Iterator[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    while True:
        chunk = [row for _, row in zip(range(COPY_CHUNK), rows, strict=False)]
        if not chunk:
            break
        await matching.copy_rows(conn, chunk)
    return time.perf_counter() - started


async def run() -> None:
    admin = os.environ.get("BWAI_BENCH_DATABASE_URL", DEFAULT_PG)
    count = int(os.environ.get("BWAI_BENCH_RECONCILE_RECORDS", "1000000"))
    name = f"bwai_bench_reconcile_{uuid.uuid4().hex[:8]}"
    print(f"machine: {machine()}", flush=True)
    print(f"reconciliation: {count} provider records against {count} payments", flush=True)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        print(f"server: PostgreSQL {conn.get_server_version().major}", flush=True)
        for line in await measure(_with_database(admin, name), count):
            print(line, flush=True)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
