"""SQL for disputes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from bwai_core.ids import new_id

Executor = asyncpg.Pool | asyncpg.Connection


async def insert_open(
    conn: asyncpg.Connection, payment_id: UUID, *, reason: str, opened_by: str, now: datetime
) -> asyncpg.Record | None:
    """Open a dispute on the payment; None when the payment does not exist.

    Raises asyncpg.UniqueViolationError when the payment already has an open dispute.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        INSERT INTO disputes (id, payment_id, order_id, tenant_id, reason, opened_by, opened_at)
        SELECT $1, p.id, p.order_id, p.tenant_id, $3, $4, $5 FROM payments p WHERE p.id = $2
        RETURNING *
        """,
        new_id(),
        payment_id,
        reason,
        opened_by,
        now,
    )
    return row


async def resolve(
    conn: asyncpg.Connection,
    dispute_id: UUID,
    *,
    outcome: str,
    note: str,
    resolved_by: str,
    now: datetime,
) -> asyncpg.Record | None:
    """Resolve an open dispute; None when it is not open."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        UPDATE disputes SET status = 'resolved', outcome = $2, resolution_note = $3,
            resolved_by = $4, resolved_at = $5
        WHERE id = $1 AND status = 'open'
        RETURNING *
        """,
        dispute_id,
        outcome,
        note,
        resolved_by,
        now,
    )
    return row


async def get(
    conn: Executor, dispute_id: UUID, tenant_id: str | None = None
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM disputes WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)",
        dispute_id,
        tenant_id,
    )
    return row


async def list_for_payment(conn: Executor, payment_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM disputes WHERE payment_id = $1 ORDER BY id", payment_id
    )
    return rows


async def payment_visible(conn: Executor, payment_id: UUID, tenant_id: str | None) -> bool:
    found: bool | None = await conn.fetchval(
        "SELECT true FROM payments WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)",
        payment_id,
        tenant_id,
    )
    return bool(found)
