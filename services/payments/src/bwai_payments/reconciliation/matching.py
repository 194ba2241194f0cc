"""The set-based comparison of one day's provider records with our deposits and ledger.

The provider records are copied into a temporary staging table, then one INSERT ... SELECT
writes one reconciliation_records row per provider payment and returns the count per outcome.
Runs inside the caller's transaction, and the staging table is dropped at commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import asyncpg

from bwai_payments.reconciliation.models import DayWindow, ProviderRecord

STAGING_TABLE = "reconciliation_staging"
# Record ids of a run are its ordinal * RECORD_ID_SPAN + 1, + 2, ... (see 002_reconciliation.sql).
RECORD_ID_SPAN = 2**32
# The pool's 30 s command timeout suits requests; a day of a million records needs longer.
MATCH_TIMEOUT_S = 900.0
# Memory per sort step of the matching query, for its transaction only (a hash step may use
# hash_mem_multiplier times it, 2 by default in PostgreSQL 15). With the default 4 MB the
# million-row hash joins are split into batches written to disk.
MATCH_WORK_MEM = "64MB"
STAGING_COLUMNS = (
    "provider_payment_id",
    "status",
    "pay_currency",
    "actually_paid",
    "outcome_amount",
    "outcome_currency",
    "updated_at",
    "merchant_reference",
)

_CREATE_STAGING = f"""
CREATE TEMP TABLE {STAGING_TABLE} (
    provider_payment_id text NOT NULL,
    status text NOT NULL,
    pay_currency text,
    actually_paid numeric(38, 18),
    outcome_amount numeric(38, 18),
    outcome_currency text,
    updated_at timestamptz NOT NULL,
    merchant_reference text
) ON COMMIT DROP
"""


def _places(currency: str) -> str:
    """Return SQL for the decimal places `currency` is compared at (18 when unknown)."""
    return (
        "COALESCE((SELECT places FROM reconciliation_currency_precision"
        f" WHERE currency = {currency}), 18)"
    )


_PAY_PLACES = _places("COALESCE(c.p_pay_currency, c.i_pay_currency)")
_OUTCOME_PLACES = _places("COALESCE(c.p_outcome_currency, c.i_outcome_currency)")

# $1 run id, $2 provider, $3 day start, $4 day end (exclusive), $5 previous version's run id.
# Our side of the day: deposits whose last provider status change falls in the day, plus every
# deposit the provider listed, so a payment whose days disagree is compared, not reported twice.
# Each staged record is one row; a deposit of the day that the provider did not list is added
# by an anti-join. Both are UNION ALL branches, so no sort or hash removes duplicates.
# Amounts are compared after rounding both to the currency's places (18 when unknown).
_MATCH = f"""
WITH unlisted AS (
    SELECT s.provider_payment_id FROM reconciliation_provider_states s
    WHERE s.provider = $2 AND s.status_changed_at >= $3 AND s.status_changed_at < $4
    UNION ALL
    SELECT d.provider_payment_id FROM provider_deposits d
    WHERE d.provider = $2 AND d.updated_at >= $3 AND d.updated_at < $4
      AND NOT EXISTS (
          SELECT 1 FROM reconciliation_provider_states s
          WHERE s.provider = d.provider AND s.provider_payment_id = d.provider_payment_id)
),
sides AS (
    SELECT p.provider_payment_id, true AS listed, p.status, p.pay_currency, p.actually_paid,
           p.outcome_amount, p.outcome_currency, p.updated_at
    FROM {STAGING_TABLE} p
    UNION ALL
    SELECT u.provider_payment_id, false, NULL, NULL, NULL, NULL, NULL, NULL
    FROM unlisted u
    WHERE NOT EXISTS (
        SELECT 1 FROM {STAGING_TABLE} p WHERE p.provider_payment_id = u.provider_payment_id)
),
-- A plain join, not IN: the caller stages each provider payment once, so `sides` has no
-- repeated key, and the planner's guess for IN over a CTE picked a million index probes.
ledger AS (
    SELECT t.provider_payment_id, sum(t.amount) AS paid, min(t.currency) AS currency
    FROM sides x
    JOIN transactions t ON t.provider = $2 AND t.provider_payment_id = x.provider_payment_id
    -- Money received only: a refund's posting is money sent back, not what the customer paid.
    WHERE t.kind = 'payment_received'
    GROUP BY t.provider_payment_id
),
compared AS (
    SELECT x.provider_payment_id, d.payment_id,
           NOT x.listed AS no_provider,
           d.provider_payment_id IS NULL AS no_internal,
           x.status AS p_status, lower(d.provider_status) AS i_status,
           x.pay_currency AS p_pay_currency,
           lower(COALESCE(l.currency, d.pay_currency)) AS i_pay_currency,
           x.actually_paid AS p_paid,
           CASE WHEN d.provider_payment_id IS NOT NULL THEN COALESCE(l.paid, 0) END AS i_paid,
           x.outcome_amount AS p_outcome, s.outcome_amount AS i_outcome,
           x.outcome_currency AS p_outcome_currency,
           lower(s.outcome_currency) AS i_outcome_currency,
           x.updated_at AS p_changed_at,
           COALESCE(s.status_changed_at, d.updated_at) AS i_changed_at,
           s.provider_payment_id IS NOT NULL AS has_state
    FROM sides x
    LEFT JOIN provider_deposits d
        ON d.provider = $2 AND d.provider_payment_id = x.provider_payment_id
    -- Joined on the deposit, so a webhook state without a deposit is not our side.
    LEFT JOIN reconciliation_provider_states s
        ON s.provider = $2 AND s.provider_payment_id = d.provider_payment_id
    LEFT JOIN ledger l ON l.provider_payment_id = d.provider_payment_id
    -- A webhook state of the day whose deposit is missing is neither side.
    WHERE x.listed OR d.provider_payment_id IS NOT NULL
),
flagged AS (
    SELECT c.*,
        NOT c.no_provider AND NOT c.no_internal AS both_sides,
        -- A side that saw no payment may not know the pay currency (an unpaid charge).
        COALESCE(c.p_pay_currency <> c.i_pay_currency, false) AS pay_currency_differs,
        c.has_state AND c.p_outcome_currency IS DISTINCT FROM c.i_outcome_currency
            AS outcome_currency_differs,
        c.p_status IS DISTINCT FROM c.i_status AS status_differs,
        -- Equal amounts are equal at any precision, so most rows look up no places and skip
        -- round(): CASE evaluates the ELSE branch, and its subqueries, only when they differ.
        CASE WHEN COALESCE(c.p_paid, 0) = COALESCE(c.i_paid, 0) THEN false
             ELSE round(COALESCE(c.p_paid, 0), {_PAY_PLACES})
                  <> round(COALESCE(c.i_paid, 0), {_PAY_PLACES})
        END AS paid_differs,
        CASE WHEN NOT c.has_state OR c.p_outcome IS NOT DISTINCT FROM c.i_outcome THEN false
             ELSE round(c.p_outcome, {_OUTCOME_PLACES})
                  IS DISTINCT FROM round(c.i_outcome, {_OUTCOME_PLACES})
        END AS outcome_differs
    FROM compared c
    -- OFFSET 0 keeps this a separate step, so each flag is computed once, not per use.
    OFFSET 0
),
classified AS (
    SELECT f.*,
        CASE
            WHEN f.no_internal THEN 'missing_internally'
            WHEN f.no_provider THEN 'missing_at_provider'
            WHEN f.pay_currency_differs OR f.outcome_currency_differs THEN 'currency_mismatch'
            WHEN f.status_differs THEN 'status_mismatch'
            WHEN f.paid_differs OR f.outcome_differs THEN 'amount_mismatch'
            ELSE 'matched'
        END AS outcome,
        CASE WHEN f.both_sides AND (f.pay_currency_differs OR f.outcome_currency_differs
                  OR f.status_differs OR f.paid_differs OR f.outcome_differs)
             THEN array_remove(ARRAY[
                 CASE WHEN f.pay_currency_differs THEN 'pay_currency' END,
                 CASE WHEN f.outcome_currency_differs THEN 'outcome_currency' END,
                 CASE WHEN f.status_differs THEN 'status' END,
                 CASE WHEN f.paid_differs THEN 'actually_paid' END,
                 CASE WHEN f.outcome_differs THEN 'outcome_amount' END
             ], NULL)
             ELSE '{{}}'::text[]
        END AS differences
    FROM flagged f
),
inserted AS (
    INSERT INTO reconciliation_records (
        id, run_id, provider_payment_id, payment_id, outcome, differences,
        provider_status, internal_status, provider_pay_currency, internal_pay_currency,
        provider_actually_paid, internal_actually_paid, provider_outcome_amount,
        internal_outcome_amount, provider_outcome_currency, internal_outcome_currency,
        provider_changed_at, internal_changed_at, resolved_at, resolved_by, resolution_note)
    SELECT (SELECT ordinal FROM reconciliation_runs WHERE id = $1) * {RECORD_ID_SPAN}
               + row_number() OVER (),
           $1, c.provider_payment_id, c.payment_id, c.outcome, c.differences,
           c.p_status, c.i_status, c.p_pay_currency, c.i_pay_currency,
           c.p_paid, c.i_paid, c.p_outcome, c.i_outcome,
           c.p_outcome_currency, c.i_outcome_currency,
           c.p_changed_at, c.i_changed_at,
           r.resolved_at, r.resolved_by, r.resolution_note
    FROM classified c
    -- A mismatch resolved in the previous version stays resolved while it is unchanged.
    LEFT JOIN reconciliation_records r
        ON r.run_id = $5::uuid AND r.resolved_at IS NOT NULL
       AND r.provider_payment_id = c.provider_payment_id AND r.outcome = c.outcome
    RETURNING outcome
)
SELECT outcome, count(*) AS n FROM inserted GROUP BY outcome
"""


async def stage(conn: asyncpg.Connection, records: Iterable[ProviderRecord]) -> int:
    """Create the staging table and COPY the records into it; return how many were copied."""
    rows = [record.as_copy_row() for record in records]
    await conn.execute(_CREATE_STAGING)
    await copy_rows(conn, rows)
    return len(rows)


async def copy_rows(conn: asyncpg.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(
        STAGING_TABLE, records=rows, columns=STAGING_COLUMNS, timeout=MATCH_TIMEOUT_S
    )


async def create_staging(conn: asyncpg.Connection) -> None:
    await conn.execute(_CREATE_STAGING)


async def match(
    conn: asyncpg.Connection,
    run_id: UUID,
    provider: str,
    window: DayWindow,
    previous_run_id: UUID | None,
) -> dict[str, int]:
    """Compare the staged records with our side of the day; return the count per outcome."""
    # A fresh temporary table has no statistics; without them the planner guesses its size.
    await conn.execute(f"ANALYZE {STAGING_TABLE}")
    await conn.execute(f"SET LOCAL work_mem = '{MATCH_WORK_MEM}'")
    rows = await conn.fetch(
        _MATCH,
        run_id,
        provider,
        window.start,
        window.end,
        previous_run_id,
        timeout=MATCH_TIMEOUT_S,
    )
    return {row["outcome"]: row["n"] for row in rows}
