"""SQL for `operator_audit`; rows are only inserted (the table's triggers reject changes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from bwai_core.ids import new_id

from bwai_payments.audit.models import AuditTarget, RequestMeta

_INSERT = """
INSERT INTO operator_audit (id, actor, action, occurred_at, target_type, target_id, tenant_id,
    client_address, user_agent, correlation_id, request_id, idempotency_key, before, after)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
RETURNING id
"""


async def insert_entry(
    conn: asyncpg.Connection,
    *,
    actor: str,
    action: str,
    target: AuditTarget,
    meta: RequestMeta,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> UUID:
    entry_id: UUID = await conn.fetchval(
        _INSERT,
        new_id(),
        actor,
        action,
        meta.at,
        target.type,
        target.id,
        target.tenant_id,
        meta.client_address,
        meta.user_agent,
        meta.correlation_id,
        meta.request_id,
        meta.idempotency_key,
        before,
        after,
    )
    return entry_id


async def list_entries(
    pool: asyncpg.Pool,
    *,
    actor: str | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
    cursor: UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Return entries newest first; `occurred_to` is exclusive, `cursor` the last id seen."""
    rows: list[asyncpg.Record] = await pool.fetch(
        """
        SELECT * FROM operator_audit
        WHERE ($1::text IS NULL OR actor = $1)
          AND ($2::text IS NULL OR action = $2)
          AND ($3::text IS NULL OR target_type = $3)
          AND ($4::text IS NULL OR target_id = $4)
          AND ($5::timestamptz IS NULL OR occurred_at >= $5)
          AND ($6::timestamptz IS NULL OR occurred_at < $6)
          AND ($7::uuid IS NULL OR id < $7)
        ORDER BY id DESC
        LIMIT $8
        """,
        actor,
        action,
        target_type,
        target_id,
        occurred_from,
        occurred_to,
        cursor,
        limit,
    )
    return rows
