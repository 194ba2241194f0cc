"""SQL for single-use emailed tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def insert(
    conn: asyncpg.Pool | asyncpg.Connection,
    *,
    token_hash: bytes,
    user_id: UUID,
    purpose: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5)
        """,
        token_hash,
        user_id,
        purpose,
        created_at,
        expires_at,
    )


async def use(
    conn: asyncpg.Pool | asyncpg.Connection, token_hash: bytes, purpose: str, *, now: datetime
) -> UUID | None:
    """Mark an unused, unexpired token of `purpose` used; return its user, or None."""
    user_id: UUID | None = await conn.fetchval(
        """
        UPDATE email_tokens SET used_at = $3
        WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
        RETURNING user_id
        """,
        token_hash,
        purpose,
        now,
    )
    return user_id


async def use_all(
    conn: asyncpg.Pool | asyncpg.Connection, user_id: UUID, purpose: str, *, now: datetime
) -> None:
    await conn.execute(
        """
        UPDATE email_tokens SET used_at = $3
        WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL
        """,
        user_id,
        purpose,
        now,
    )


async def latest_created_at(
    conn: asyncpg.Pool | asyncpg.Connection, user_id: UUID, purpose: str
) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "SELECT max(created_at) FROM email_tokens WHERE user_id = $1 AND purpose = $2",
        user_id,
        purpose,
    )
    return value
