"""SQL for refunds and the per-payment refund allowance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from bwai_core.ids import new_id

Executor = asyncpg.Pool | asyncpg.Connection

# The payment with its order and what its refunds have reserved so far.
_PAYMENT_SQL = """
SELECT p.id, p.order_id, p.tenant_id, p.provider, p.provider_payment_id, p.pay_currency,
       p.status, p.actually_paid, p.amount_due, o.amount AS order_amount,
       o.currency AS order_currency, COALESCE(a.refunded, 0) AS refunded
FROM payments p
JOIN orders o ON o.id = p.order_id
LEFT JOIN refund_allowances a ON a.payment_id = p.id
WHERE p.id = $1 AND ($2::text IS NULL OR p.tenant_id = $2)
"""

# The insert returns nothing when a refund with this key exists. The trigger on `refunds`
# reserves the amount, and raises a check violation when that exceeds the payment's allowance.
_INSERT_SQL = """
INSERT INTO refunds (id, payment_id, order_id, tenant_id, provider, method, amount, currency,
    reason, refund_address, partially_paid, provider_note, requested_by, idempotency_key,
    created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
ON CONFLICT (payment_id, idempotency_key) DO NOTHING
RETURNING *
"""

ALLOWANCE_CONSTRAINT = "refund_allowances_within_paid"


async def payment_for_refund(
    conn: Executor, payment_id: UUID, tenant_id: str | None = None
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(_PAYMENT_SQL, payment_id, tenant_id)
    return row


async def insert_refund(
    conn: asyncpg.Connection,
    *,
    payment: asyncpg.Record,
    method: str,
    amount: Decimal,
    reason: str,
    refund_address: str,
    partially_paid: bool,
    provider_note: str | None,
    requested_by: str,
    idempotency_key: str,
    now: datetime,
) -> asyncpg.Record | None:
    """Insert a requested refund; None when the payment already has one with this key.

    Raises asyncpg.CheckViolationError (constraint ALLOWANCE_CONSTRAINT) when the payment's
    refunds would exceed what it received.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        _INSERT_SQL,
        new_id(),
        payment["id"],
        payment["order_id"],
        payment["tenant_id"],
        payment["provider"],
        method,
        amount,
        payment["pay_currency"],
        reason,
        refund_address,
        partially_paid,
        provider_note,
        requested_by,
        idempotency_key,
        now,
    )
    return row


async def refund_by_key(
    conn: Executor, payment_id: UUID, idempotency_key: str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM refunds WHERE payment_id = $1 AND idempotency_key = $2",
        payment_id,
        idempotency_key,
    )
    return row


async def get_refund(
    conn: Executor, refund_id: UUID, tenant_id: str | None = None, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM refunds WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)" + lock,
        refund_id,
        tenant_id,
    )
    return row


async def refund_by_payout(
    conn: Executor, provider: str, payout_id: str, batch_id: str | None
) -> asyncpg.Record | None:
    """Find the refund of a provider payout, locked for the caller's transaction."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT * FROM refunds
        WHERE provider = $1
          AND (provider_payout_id = $2 OR ($3::text IS NOT NULL AND provider_reference = $3
               AND provider_payout_id IS NULL))
        FOR UPDATE
        """,
        provider,
        payout_id,
        batch_id,
    )
    return row


async def list_for_payment(conn: Executor, payment_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM refunds WHERE payment_id = $1 ORDER BY id", payment_id
    )
    return rows


async def update_refund(
    conn: asyncpg.Connection, refund_id: UUID, now: datetime, **fields: Any
) -> asyncpg.Record:
    """Set `fields` on the refund (column names from our code only) and return the row.

    A status change must go through `advance_status`, which keeps the order of statuses.
    """
    assert "status" not in fields
    assert "status_rank" not in fields
    names = sorted(fields)
    assignments = ", ".join(f"{name} = ${index}" for index, name in enumerate(names, start=3))
    row: asyncpg.Record | None = await conn.fetchrow(
        f"UPDATE refunds SET updated_at = $2, {assignments} WHERE id = $1 RETURNING *",
        refund_id,
        now,
        *(fields[name] for name in names),
    )
    assert row is not None, f"refund {refund_id} disappeared"
    return row


async def advance_status(
    conn: asyncpg.Connection,
    refund_id: UUID,
    *,
    status: str,
    rank: int,
    now: datetime,
    provider_status: str | None = None,
    failure_reason: str | None = None,
    provider_reference: str | None = None,
) -> asyncpg.Record | None:
    """Move the refund to a higher-ranked status; None when it is already there or beyond."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        UPDATE refunds SET status = $2, status_rank = $3, updated_at = $4,
            provider_status = COALESCE($5, provider_status),
            failure_reason = COALESCE($6, failure_reason),
            provider_reference = COALESCE($7, provider_reference),
            awaiting_verification = awaiting_verification AND $2 = 'requested',
            submitted_at = CASE WHEN $2 = 'submitted' THEN $4 ELSE submitted_at END,
            finished_at = CASE WHEN $2 IN ('completed', 'failed') THEN $4 ELSE finished_at END
        WHERE id = $1 AND status_rank < $3
        RETURNING *
        """,
        refund_id,
        status,
        rank,
        now,
        provider_status,
        failure_reason,
        provider_reference,
    )
    return row


async def post_refund_sent(
    conn: asyncpg.Connection, refund: asyncpg.Record, *, event_id: str, now: datetime
) -> None:
    """Append the ledger posting of a completed refund, from the provider balance back to the
    order's customer. The refund id is the posting key, so a refund is posted once."""
    await conn.execute(
        """
        INSERT INTO transactions (id, tenant_id, order_id, payment_id, kind, debit_account,
            credit_account, amount, currency, fiat_amount, fiat_currency, paid_total, provider,
            provider_payment_id, provider_event_id, posting_key, occurred_at, created_at)
        SELECT $1, r.tenant_id, r.order_id, r.payment_id, 'refund_sent', 'order:' || r.order_id,
               'provider_balance:' || r.provider, r.amount, r.currency, NULL, o.currency,
               p.actually_paid, r.provider,
               COALESCE(r.provider_payout_id, r.provider_reference, r.id::text), $3,
               'refund:' || r.id, $4, $4
        FROM refunds r JOIN payments p ON p.id = r.payment_id JOIN orders o ON o.id = r.order_id
        WHERE r.id = $2
        ON CONFLICT (posting_key) DO NOTHING
        """,
        new_id(),
        refund["id"],
        event_id,
        now,
    )
