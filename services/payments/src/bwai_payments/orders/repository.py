"""SQL for orders. `tenant_id` None means an operator, who may read every tenant's orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

_COLUMNS = (
    "id, tenant_id, amount, currency, description, metadata, success_url, cancel_url, status, "
    "created_at, updated_at"
)


async def insert_order(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    tenant_id: str,
    amount: Decimal,
    currency: str,
    description: str | None,
    metadata: dict[str, Any],
    success_url: str | None,
    cancel_url: str | None,
    now: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        INSERT INTO orders (id, tenant_id, amount, currency, description, metadata, success_url,
                            cancel_url, status, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $9)
        RETURNING {_COLUMNS}
        """,
        order_id,
        tenant_id,
        amount,
        currency,
        description,
        metadata,
        success_url,
        cancel_url,
        now,
    )
    assert row is not None
    return row


async def get_order(
    conn: asyncpg.Connection | asyncpg.Pool, order_id: UUID, tenant_id: str | None
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM orders WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)",
        order_id,
        tenant_id,
    )
    return row


async def list_orders(
    conn: asyncpg.Pool,
    *,
    tenant_id: str | None,
    status: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    cursor: UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Return up to `limit` orders, newest first, older than `cursor` when it is given."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM orders
        WHERE ($1::text IS NULL OR tenant_id = $1)
          AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR created_at >= $3)
          AND ($4::timestamptz IS NULL OR created_at < $4)
          AND ($5::uuid IS NULL OR id < $5)
        ORDER BY id DESC
        LIMIT $6
        """,
        tenant_id,
        status,
        created_from,
        created_to,
        cursor,
        limit,
    )
    return rows


async def cancel_open_order(
    conn: asyncpg.Connection, order_id: UUID, tenant_id: str | None, now: datetime
) -> asyncpg.Record | None:
    """Cancel the order if it is open; return the cancelled row, else None.

    The row lock of the update makes a concurrent payment event on the order wait for the
    commit, and such an event then records its money as a late payment.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        UPDATE orders SET status = 'cancelled', updated_at = $3
        WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2) AND status = 'open'
        RETURNING {_COLUMNS}
        """,
        order_id,
        tenant_id,
        now,
    )
    return row
