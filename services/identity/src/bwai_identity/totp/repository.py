"""SQL for TOTP credentials and recovery codes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

Conn = asyncpg.Pool | asyncpg.Connection


async def get_credential(conn: Conn, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT secret, confirmed_at, last_used_step FROM totp_credentials WHERE user_id = $1",
        user_id,
    )


async def upsert_pending(conn: Conn, user_id: UUID, secret: str, *, now: datetime) -> None:
    """Store a new unconfirmed secret, replacing an earlier unconfirmed one."""
    await conn.execute(
        """
        INSERT INTO totp_credentials (user_id, secret, created_at) VALUES ($1, $2, $3)
        ON CONFLICT (user_id) DO UPDATE SET secret = $2, created_at = $3, last_used_step = NULL
        WHERE totp_credentials.confirmed_at IS NULL
        """,
        user_id,
        secret,
        now,
    )


async def use_step(conn: Conn, user_id: UUID, step: int, *, confirm_at: datetime | None) -> bool:
    """Record `step` as the last used one if it is later; return False for a replayed step."""
    updated = await conn.fetchval(
        """
        UPDATE totp_credentials
        SET last_used_step = $2, confirmed_at = coalesce(confirmed_at, $3)
        WHERE user_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)
        RETURNING true
        """,
        user_id,
        step,
        confirm_at,
    )
    return bool(updated)


async def replace_recovery_codes(
    conn: Conn, user_id: UUID, code_hashes: list[bytes], *, now: datetime
) -> None:
    await conn.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
    await conn.executemany(
        "INSERT INTO recovery_codes (code_hash, user_id, created_at) VALUES ($1, $2, $3)",
        [(code_hash, user_id, now) for code_hash in code_hashes],
    )


async def use_recovery_code(conn: Conn, user_id: UUID, code_hash: bytes, *, now: datetime) -> bool:
    used = await conn.fetchval(
        """
        UPDATE recovery_codes SET used_at = $3
        WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
        RETURNING true
        """,
        user_id,
        code_hash,
        now,
    )
    return bool(used)
