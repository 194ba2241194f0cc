"""SQL for API clients."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def insert_client(
    conn: asyncpg.Connection,
    *,
    client_id: UUID,
    tenant_id: UUID,
    role: str,
    secret_hash: str,
    name: str | None,
    created_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO api_clients (id, tenant_id, role, secret_hash, name, created_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        client_id,
        tenant_id,
        role,
        secret_hash,
        name,
        created_at,
    )


async def get_client(
    conn: asyncpg.Pool | asyncpg.Connection, client_id: UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT id, tenant_id, role, secret_hash, revoked_at
        FROM api_clients
        WHERE id = $1
        """,
        client_id,
    )


async def update_secret_hash(
    conn: asyncpg.Pool | asyncpg.Connection, client_id: UUID, secret_hash: str
) -> None:
    await conn.execute(
        "UPDATE api_clients SET secret_hash = $2 WHERE id = $1", client_id, secret_hash
    )


async def revoke_client(
    conn: asyncpg.Pool | asyncpg.Connection,
    client_id: UUID,
    *,
    now: datetime,
    revoked_by: str,
    tenant_id: UUID | None,
) -> bool:
    """Revoke a live client (of `tenant_id` when given); return whether one was revoked."""
    revoked = await conn.fetchval(
        """
        UPDATE api_clients SET revoked_at = $2, revoked_by = $3
        WHERE id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR tenant_id = $4)
        RETURNING true
        """,
        client_id,
        now,
        revoked_by,
        tenant_id,
    )
    return bool(revoked)
