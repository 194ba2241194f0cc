"""SQL for invitations."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

Conn = asyncpg.Pool | asyncpg.Connection


async def insert_invitation(
    conn: Conn,
    *,
    token_hash: bytes,
    tenant_id: UUID,
    email: str,
    role: str,
    invited_by: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO invitations (token_hash, tenant_id, email, role, invited_by, created_at,
                                 expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        token_hash,
        tenant_id,
        email,
        role,
        UUID(invited_by),
        created_at,
        expires_at,
    )


async def use_invitation(conn: Conn, token_hash: bytes, *, now: datetime) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        UPDATE invitations SET accepted_at = $2
        WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2
        RETURNING tenant_id, email, role, invited_by
        """,
        token_hash,
        now,
    )
