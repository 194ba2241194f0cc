"""SQL for payments (provider checkouts) and their deposits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any
from uuid import UUID

import asyncpg
from bwai_messaging.envelope import Event
from bwai_messaging.outbox import enqueue_sql
from bwai_messaging.schemas import SchemaRegistry

from bwai_payments.idempotent import Completion, FinalResponse

PAYMENT_COLUMNS = (
    "id, order_id, tenant_id, provider, provider_checkout_id, provider_payment_id, checkout_url, "
    "pay_currency, status, status_rank, provider_status, amount_due, actually_paid, outcome, "
    "late, is_active, created_at, updated_at, expires_at"
)


async def order_tenant(pool: asyncpg.Pool, order_id: UUID) -> str | None:
    tenant: str | None = await pool.fetchval("SELECT tenant_id FROM orders WHERE id = $1", order_id)
    return tenant


# The order and whether it already has an active payment, in one statement.
PAYABLE_ORDER_SQL = """
SELECT o.id, o.tenant_id, o.amount, o.currency, o.description, o.success_url,
       o.cancel_url, o.status,
       EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.is_active)
           AS has_active_payment
FROM orders o
WHERE o.id = $1 AND o.tenant_id = $2
"""


async def payable_order(
    conn: asyncpg.Pool | asyncpg.Connection, order_id: UUID, tenant_id: str
) -> asyncpg.Record | None:
    """Read the order and whether it already has an active payment, in one statement."""
    row: asyncpg.Record | None = await conn.fetchrow(PAYABLE_ORDER_SQL, order_id, tenant_id)
    return row


# The state of a new checkout. `record_payment` writes it explicitly rather than through the
# column defaults, so that the response built from the row before the insert is the row stored.
_NEW_PAYMENT_STATE: dict[str, Any] = {
    "status": "pending",
    "status_rank": 0,
    "provider_status": None,
    "actually_paid": Decimal(0),
    "outcome": None,
    "late": False,
    "is_active": True,
}
# numeric(38, 18): PostgreSQL rounds to 18 places, half away from zero.
_AMOUNT_PLACES = Decimal(1).scaleb(-18)
_AMOUNT_CONTEXT = Context(prec=38)

# $1 to $18 are the payment's columns, $2 the order's id.
_RECORD_PAYMENT = """
WITH o AS (
    SELECT id, tenant_id FROM orders
    WHERE id = $2 AND status IN ('open', 'partially_paid')
    FOR SHARE
),
inserted AS (
    INSERT INTO payments (id, order_id, tenant_id, provider, provider_checkout_id,
                          provider_payment_id, checkout_url, pay_currency, amount_due,
                          expires_at, created_at, updated_at, trace_context, status,
                          status_rank, provider_status, actually_paid, outcome, late, is_active)
    SELECT $1, o.id, o.tenant_id, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12,
           $13, $14, $15, $16, $17, $18
    FROM o
    RETURNING 1
),
outbox_rows AS ({outbox}),
completed AS ({completion})
SELECT EXISTS (SELECT 1 FROM inserted) AS inserted,
       EXISTS (SELECT 1 FROM completed) AS completed
"""
_RECORD_PAYMENT_PARAMETERS = 18
_IF_INSERTED = "EXISTS (SELECT 1 FROM inserted)"


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of `record_payment`: whether the row went in and the response was stored."""

    inserted: bool
    completed: bool


def new_payment_row(
    *,
    payment_id: UUID,
    order_id: UUID,
    tenant_id: str,
    provider: str,
    checkout_id: str,
    provider_payment_id: str | None,
    checkout_url: str,
    pay_currency: str | None,
    amount_due: Decimal | None,
    expires_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """Return the row `record_payment` stores, with the values PostgreSQL would read back."""
    return {
        "id": payment_id,
        "order_id": order_id,
        "tenant_id": tenant_id,
        "provider": provider,
        "provider_checkout_id": checkout_id,
        "provider_payment_id": provider_payment_id,
        "checkout_url": checkout_url,
        "pay_currency": pay_currency,
        "amount_due": _as_stored_amount(amount_due),
        # asyncpg sends a naive datetime as local time, and timestamptz reads back in UTC.
        "expires_at": expires_at.astimezone(UTC) if expires_at is not None else None,
        "created_at": now.astimezone(UTC),
        "updated_at": now.astimezone(UTC),
        **_NEW_PAYMENT_STATE,
    }


async def record_payment(
    conn: asyncpg.Pool | asyncpg.Connection,
    row: Mapping[str, Any],
    *,
    initiated: Event,
    schemas: SchemaRegistry,
    completion: Completion,
    response: FinalResponse,
    trace_context: str | None,
) -> Recorded:
    """Insert the payment from `new_payment_row`, its event and the stored response at once.

    One statement, so it commits atomically on the pool without BEGIN and COMMIT. Nothing is
    written when the order stopped being payable (`inserted` is False). The order row is
    share-locked, so a concurrent cancel either commits first or waits. A second active
    payment for the order fails on payments_one_active_per_order_idx.
    """
    first = _RECORD_PAYMENT_PARAMETERS + 1
    outbox, outbox_args = enqueue_sql(
        initiated, schemas=schemas, first_parameter=first, only_if=_IF_INSERTED
    )
    first += len(outbox_args)
    completing, completion_args = completion.sql(
        response, first_parameter=first, only_if=_IF_INSERTED
    )
    statement = _RECORD_PAYMENT.format(outbox=outbox, completion=completing)
    result = await conn.fetchrow(
        statement,
        row["id"],
        row["order_id"],
        row["provider"],
        row["provider_checkout_id"],
        row["provider_payment_id"],
        row["checkout_url"],
        row["pay_currency"],
        row["amount_due"],
        row["expires_at"],
        row["created_at"],
        trace_context,
        row["status"],
        row["status_rank"],
        row["provider_status"],
        row["actually_paid"],
        row["outcome"],
        row["late"],
        row["is_active"],
        *outbox_args,
        *completion_args,
    )
    assert result is not None  # the outer SELECT always returns one row
    return Recorded(inserted=result["inserted"], completed=result["completed"])


def _as_stored_amount(amount: Decimal | None) -> Decimal | None:
    if amount is None:
        return None
    return amount.quantize(_AMOUNT_PLACES, rounding=ROUND_HALF_UP, context=_AMOUNT_CONTEXT)


async def get_payment(
    pool: asyncpg.Pool, payment_id: UUID, tenant_id: str | None
) -> tuple[asyncpg.Record | None, list[asyncpg.Record]]:
    """Return the payment and its deposits."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {PAYMENT_COLUMNS} FROM payments "
            "WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)",
            payment_id,
            tenant_id,
        )
        if row is None:
            return None, []
        deposits = await conn.fetch(
            "SELECT * FROM provider_deposits WHERE payment_id = $1 ORDER BY created_at, "
            "provider_payment_id",
            payment_id,
        )
    return row, deposits
