"""SQL for the ledger (`transactions`): append-only double-entry postings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg
from bwai_core.ids import new_id


async def post_payment_received(
    conn: asyncpg.Connection,
    *,
    tenant_id: str,
    order_id: UUID,
    payment_id: UUID,
    provider: str,
    provider_payment_id: str,
    provider_event_id: str,
    amount: Decimal,
    currency: str,
    fiat_amount: Decimal | None,
    fiat_currency: str,
    paid_total: Decimal,
    occurred_at: datetime | None,
    now: datetime,
) -> bool:
    """Append one posting: money held at the provider against the order. False if it existed.

    The posting key is the deposit plus its new total actually paid, so the same money can
    reach the ledger only once whatever the order and number of events.
    """
    posting_key = f"{provider}:{provider_payment_id}:{format(paid_total.normalize(), 'f')}"
    status: str = await conn.execute(
        """
        INSERT INTO transactions (id, tenant_id, order_id, payment_id, kind, debit_account,
            credit_account, amount, currency, fiat_amount, fiat_currency, paid_total, provider,
            provider_payment_id, provider_event_id, posting_key, occurred_at, created_at)
        VALUES ($1, $2, $3, $4, 'payment_received', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                $15, $16, $17)
        ON CONFLICT (posting_key) DO NOTHING
        """,
        new_id(),
        tenant_id,
        order_id,
        payment_id,
        f"provider_balance:{provider}",
        f"order:{order_id}",
        amount,
        currency,
        fiat_amount,
        fiat_currency,
        paid_total,
        provider,
        provider_payment_id,
        provider_event_id,
        posting_key,
        occurred_at,
        now,
    )
    return status.endswith(" 1")


async def list_for_order(
    pool: asyncpg.Pool, order_id: UUID, tenant_id: str | None
) -> list[asyncpg.Record] | None:
    """Return the order's postings in order, or None when the caller cannot see the order."""
    rows: list[asyncpg.Record] = await pool.fetch(
        """
        SELECT o.currency AS order_currency, t.*
        FROM orders o LEFT JOIN transactions t ON t.order_id = o.id
        WHERE o.id = $1 AND ($2::text IS NULL OR o.tenant_id = $2)
        ORDER BY t.id
        """,
        order_id,
        tenant_id,
    )
    if not rows:
        return None
    return [row for row in rows if row["id"] is not None]
