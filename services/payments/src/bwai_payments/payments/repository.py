"""SQL for payments (provider checkouts) and their deposits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

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


async def insert_payment(
    conn: asyncpg.Connection,
    *,
    payment_id: UUID,
    order_id: UUID,
    provider: str,
    checkout_id: str,
    provider_payment_id: str | None,
    checkout_url: str,
    pay_currency: str | None,
    amount_due: Decimal | None,
    expires_at: datetime | None,
    now: datetime,
    trace_context: str | None = None,
) -> asyncpg.Record | None:
    """Insert the payment if the order is still payable; None when it is not.

    The order row is share-locked, so a concurrent cancel either commits first (no row) or waits.
    A second active payment for the order fails on payments_one_active_per_order_idx.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        WITH o AS (
            SELECT id, tenant_id FROM orders
            WHERE id = $2 AND status IN ('open', 'partially_paid')
            FOR SHARE
        )
        INSERT INTO payments (id, order_id, tenant_id, provider, provider_checkout_id,
                              provider_payment_id, checkout_url, pay_currency, amount_due,
                              expires_at, created_at, updated_at, trace_context)
        SELECT $1, o.id, o.tenant_id, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11 FROM o
        RETURNING {PAYMENT_COLUMNS}
        """,
        payment_id,
        order_id,
        provider,
        checkout_id,
        provider_payment_id,
        checkout_url,
        pay_currency,
        amount_due,
        expires_at,
        now,
        trace_context,
    )
    return row


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
