"""SQL for sign-in sessions and their refresh tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

Conn = asyncpg.Pool | asyncpg.Connection


async def insert_session(
    conn: Conn,
    *,
    session_id: UUID,
    user_id: UUID,
    tenant_id: UUID | None,
    amr: list[str],
    auth_time: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO sessions (id, user_id, tenant_id, amr, auth_time, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $5, $6)
        """,
        session_id,
        user_id,
        tenant_id,
        amr,
        auth_time,
        expires_at,
    )


async def insert_refresh_token(
    conn: Conn, *, token_hash: bytes, session_id: UUID, created_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
        token_hash,
        session_id,
        created_at,
    )


async def use_refresh_token(conn: Conn, token_hash: bytes, *, now: datetime) -> UUID | None:
    """Mark an unused refresh token used; return its session, or None if unknown or used."""
    session_id: UUID | None = await conn.fetchval(
        """
        UPDATE refresh_tokens SET used_at = $2
        WHERE token_hash = $1 AND used_at IS NULL
        RETURNING session_id
        """,
        token_hash,
        now,
    )
    return session_id


async def session_of_token(conn: Conn, token_hash: bytes) -> UUID | None:
    session_id: UUID | None = await conn.fetchval(
        "SELECT session_id FROM refresh_tokens WHERE token_hash = $1", token_hash
    )
    return session_id


async def get_session(conn: Conn, session_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT id, user_id, tenant_id, amr, auth_time, created_at, expires_at, revoked_at
        FROM sessions WHERE id = $1
        """,
        session_id,
    )


async def list_user_sessions(conn: Conn, user_id: UUID, *, now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, tenant_id, amr, auth_time, created_at, expires_at
        FROM sessions
        WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
        ORDER BY created_at DESC
        """,
        user_id,
        now,
    )


async def revoke_session(
    conn: Conn, session_id: UUID, *, now: datetime, reason: str, user_id: UUID | None = None
) -> bool:
    """Revoke one live session (of `user_id` when given); return whether one was revoked."""
    revoked = await conn.fetchval(
        """
        UPDATE sessions SET revoked_at = $2, revoked_reason = $3
        WHERE id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR user_id = $4)
        RETURNING true
        """,
        session_id,
        now,
        reason,
        user_id,
    )
    return bool(revoked)


async def revoke_user_sessions(conn: Conn, user_id: UUID, *, now: datetime, reason: str) -> int:
    result: str = await conn.execute(
        """
        UPDATE sessions SET revoked_at = $2, revoked_reason = $3
        WHERE user_id = $1 AND revoked_at IS NULL
        """,
        user_id,
        now,
        reason,
    )
    return int(result.split()[-1])
