"""SQL for reconciliation runs, their records, the schedule claims, alerts and provider states.

The comparison itself is in matching.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from bwai_core.ids import new_id

from bwai_payments.reconciliation.matching import RECORD_ID_SPAN
from bwai_payments.reconciliation.models import OUTCOMES

RECORD_COLUMNS = (
    "id, run_id, provider_payment_id, payment_id, outcome, differences, provider_status, "
    "internal_status, provider_pay_currency, internal_pay_currency, provider_actually_paid, "
    "internal_actually_paid, provider_outcome_amount, internal_outcome_amount, "
    "provider_outcome_currency, internal_outcome_currency, provider_changed_at, "
    "internal_changed_at, resolved_at, resolved_by, resolution_note"
)


async def lock_day(conn: asyncpg.Connection, provider: str, day: date) -> None:
    """Serialise runs of one (provider, day) until the transaction ends."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"reconciliation:{provider}:{day.isoformat()}",
    )


async def insert_run(
    conn: asyncpg.Connection,
    *,
    provider: str,
    day: date,
    source: str,
    trigger: str,
    requested_by: str | None,
    now: datetime,
) -> asyncpg.Record:
    """Insert the next version of the day's run; the caller holds the day's lock."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        INSERT INTO reconciliation_runs (id, provider, day, version, source, trigger,
                                         requested_by, started_at)
        SELECT $1, $2, $3, COALESCE(max(version), 0) + 1, $4, $5, $6, $7
        FROM reconciliation_runs WHERE provider = $2 AND day = $3
        RETURNING *
        """,
        new_id(),
        provider,
        day,
        source,
        trigger,
        requested_by,
        now,
    )
    assert row is not None
    return row


async def previous_completed_run(
    conn: asyncpg.Connection, provider: str, day: date, before_version: int
) -> UUID | None:
    run_id: UUID | None = await conn.fetchval(
        """
        SELECT id FROM reconciliation_runs
        WHERE provider = $1 AND day = $2 AND version < $3 AND status = 'completed'
        ORDER BY version DESC LIMIT 1
        """,
        provider,
        day,
        before_version,
    )
    return run_id


async def set_progress(pool_or_conn: Any, run_id: UUID, progress: int) -> None:
    await pool_or_conn.execute(
        "UPDATE reconciliation_runs SET progress = $2 WHERE id = $1", run_id, progress
    )


async def complete_run(
    conn: asyncpg.Connection,
    run_id: UUID,
    *,
    counts: dict[str, int],
    provider_records: int,
    foreign_records: int,
    now: datetime,
) -> asyncpg.Record:
    total = sum(counts.get(outcome, 0) for outcome in OUTCOMES)
    mismatched = total - counts.get("matched", 0)
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        UPDATE reconciliation_runs SET
            status = 'completed', progress = $2::bigint, total = $2::bigint, provider_records = $3,
            foreign_records = $4, matched = $5, missing_internally = $6,
            missing_at_provider = $7, amount_mismatch = $8, currency_mismatch = $9,
            status_mismatch = $10,
            mismatch_rate = CASE WHEN $2::bigint = 0 THEN 0 ELSE $11::numeric / $2::bigint END,
            completed_at = $12
        WHERE id = $1
        RETURNING *
        """,
        run_id,
        total,
        provider_records,
        foreign_records,
        *(counts.get(outcome, 0) for outcome in OUTCOMES),
        mismatched,
        now,
    )
    assert row is not None
    return row


async def fail_run(pool: asyncpg.Pool, run_id: UUID, error: str, now: datetime) -> None:
    await pool.execute(
        """
        UPDATE reconciliation_runs SET status = 'failed', error = $2, completed_at = $3
        WHERE id = $1 AND status = 'running'
        """,
        run_id,
        error,
        now,
    )


async def get_run(pool_or_conn: Any, run_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool_or_conn.fetchrow(
        "SELECT * FROM reconciliation_runs WHERE id = $1", run_id
    )
    return row


async def list_runs(
    pool: asyncpg.Pool, *, provider: str | None, day_from: date | None, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        """
        SELECT * FROM reconciliation_runs
        WHERE ($1::text IS NULL OR provider = $1) AND ($2::date IS NULL OR day >= $2)
        ORDER BY day DESC, provider, version DESC
        LIMIT $3
        """,
        provider,
        day_from,
        limit,
    )
    return rows


async def records_page(
    pool: asyncpg.Pool,
    run_id: UUID,
    *,
    outcome: str | None,
    mismatches_only: bool,
    after_id: int,
    limit: int,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        f"""
        WITH run AS (SELECT ordinal * {RECORD_ID_SPAN} AS first_id
                     FROM reconciliation_runs WHERE id = $1)
        SELECT {RECORD_COLUMNS} FROM reconciliation_records
        -- The run's id range, so the primary key index finds the page.
        WHERE id > GREATEST($2, (SELECT first_id FROM run))
          AND id <= (SELECT first_id FROM run) + {RECORD_ID_SPAN}
          AND run_id = $1 AND ($3::text IS NULL OR outcome = $3)
          AND (NOT $4 OR outcome <> 'matched')
        ORDER BY id LIMIT $5
        """,
        run_id,
        after_id,
        outcome,
        mismatches_only,
        limit,
    )
    return rows


async def stream_records(
    pool: asyncpg.Pool, run_id: UUID, *, batch: int = 5000
) -> AsyncIterator[list[asyncpg.Record]]:
    """Yield a run's records in id order, a batch at a time, for the CSV report."""
    after_id = 0
    while True:
        rows = await records_page(
            pool, run_id, outcome=None, mismatches_only=False, after_id=after_id, limit=batch
        )
        if not rows:
            return
        yield rows
        after_id = rows[-1]["id"]


async def lock_record(conn: asyncpg.Connection, record_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {RECORD_COLUMNS} FROM reconciliation_records WHERE id = $1 FOR UPDATE",
        record_id,
    )
    return row


async def resolve_record(
    conn: asyncpg.Connection, record_id: int, *, note: str, actor: str, now: datetime
) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        UPDATE reconciliation_records
        SET resolved_at = $2, resolved_by = $3, resolution_note = $4
        WHERE id = $1
        RETURNING {RECORD_COLUMNS}
        """,
        record_id,
        now,
        actor,
        note,
    )
    assert row is not None
    return row


async def window_totals(
    conn: asyncpg.Connection, start: datetime, end: datetime
) -> tuple[int, int, list[UUID]]:
    """Sum the current runs (latest completed version of each day) overlapping [start, end).

    Returns (compared records, mismatched records, run ids).
    """
    row = await conn.fetchrow(
        """
        WITH current AS (
            SELECT DISTINCT ON (provider, day) id, total, matched
            FROM reconciliation_runs
            WHERE status = 'completed'
              AND day >= ($1 AT TIME ZONE 'UTC')::date AND day < $2 AT TIME ZONE 'UTC'
            ORDER BY provider, day, version DESC
        )
        SELECT COALESCE(sum(total), 0) AS total,
               COALESCE(sum(total - matched), 0) AS mismatched,
               COALESCE(array_agg(id ORDER BY id), '{}') AS run_ids
        FROM current
        """,
        start,
        end,
    )
    assert row is not None
    return int(row["total"]), int(row["mismatched"]), list(row["run_ids"])


async def open_alert(conn: asyncpg.Connection) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM reconciliation_alerts WHERE cleared_at IS NULL FOR UPDATE"
    )
    return row


async def insert_alert(
    conn: asyncpg.Connection,
    *,
    rate: Decimal,
    threshold: Decimal,
    start: datetime,
    end: datetime,
    now: datetime,
) -> UUID | None:
    """Open an alert; None when another transaction opened one first."""
    alert_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO reconciliation_alerts (id, mismatch_rate, threshold, window_start,
                                           window_end, raised_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT ((true)) WHERE cleared_at IS NULL DO NOTHING
        RETURNING id
        """,
        new_id(),
        rate,
        threshold,
        start,
        end,
        now,
    )
    return alert_id


async def clear_alert(conn: asyncpg.Connection, alert_id: UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE reconciliation_alerts SET cleared_at = $2 WHERE id = $1", alert_id, now
    )


async def claim_scheduled_day(
    pool: asyncpg.Pool,
    provider: str,
    day: date,
    *,
    replica: str,
    now: datetime,
    stale_before: datetime,
) -> bool:
    """Claim a (provider, day) for this replica; True when it is ours to run.

    A claim that never completed and is older than `stale_before` (its replica died) is taken
    over, so a crash does not leave the day unreconciled.
    """
    claimed: bool | None = await pool.fetchval(
        """
        INSERT INTO reconciliation_schedule (provider, day, claimed_by, claimed_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (provider, day) DO UPDATE
            SET claimed_by = EXCLUDED.claimed_by, claimed_at = EXCLUDED.claimed_at
            WHERE reconciliation_schedule.completed_at IS NULL
              AND reconciliation_schedule.claimed_at < $5
        RETURNING true
        """,
        provider,
        day,
        replica,
        now,
        stale_before,
    )
    return bool(claimed)


async def complete_scheduled_day(
    pool: asyncpg.Pool, provider: str, day: date, now: datetime
) -> None:
    await pool.execute(
        "UPDATE reconciliation_schedule SET completed_at = $3 WHERE provider = $1 AND day = $2",
        provider,
        day,
        now,
    )


async def release_scheduled_day(pool: asyncpg.Pool, provider: str, day: date) -> None:
    """Drop an unfinished claim after a failure so the next tick tries the day again."""
    await pool.execute(
        "DELETE FROM reconciliation_schedule "
        "WHERE provider = $1 AND day = $2 AND completed_at IS NULL",
        provider,
        day,
    )


async def save_provider_state(
    conn: asyncpg.Connection,
    *,
    provider: str,
    provider_payment_id: str,
    status_changed_at: datetime,
    outcome_amount: Decimal | None,
    outcome_currency: str | None,
    provider_event_id: str,
    now: datetime,
) -> None:
    """Keep the newest provider-reported state of a payment; an older event changes nothing."""
    await conn.execute(
        """
        INSERT INTO reconciliation_provider_states (provider, provider_payment_id,
            status_changed_at, outcome_amount, outcome_currency, provider_event_id, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (provider, provider_payment_id) DO UPDATE SET
            status_changed_at = EXCLUDED.status_changed_at,
            outcome_amount = COALESCE(EXCLUDED.outcome_amount,
                                      reconciliation_provider_states.outcome_amount),
            outcome_currency = COALESCE(EXCLUDED.outcome_currency,
                                        reconciliation_provider_states.outcome_currency),
            provider_event_id = EXCLUDED.provider_event_id,
            updated_at = EXCLUDED.updated_at
        WHERE EXCLUDED.status_changed_at >= reconciliation_provider_states.status_changed_at
        """,
        provider,
        provider_payment_id,
        status_changed_at,
        outcome_amount,
        outcome_currency,
        provider_event_id,
        now,
    )
