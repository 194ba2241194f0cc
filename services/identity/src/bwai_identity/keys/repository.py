"""SQL for signing keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import asyncpg


async def insert_active_key(
    conn: asyncpg.Pool | asyncpg.Connection,
    *,
    kid: str,
    private_key_pem: str,
    public_jwk: dict[str, Any],
    created_at: datetime,
) -> bool:
    """Insert an active key unless one is active already; return whether it was inserted."""
    return await _insert_key(conn, "active", kid, private_key_pem, public_jwk, created_at)


async def get_active_key(conn: asyncpg.Pool | asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT kid, private_key_pem FROM signing_keys WHERE state = 'active'"
    )


async def list_published_jwks(
    conn: asyncpg.Pool | asyncpg.Connection, *, retired_after: datetime
) -> list[dict[str, Any]]:
    """Return the public JWKs of the active and pending keys and of keys retired after a time."""
    rows = await conn.fetch(
        """
        SELECT public_jwk FROM signing_keys
        WHERE state IN ('active', 'pending') OR retired_at > $1
        ORDER BY created_at DESC
        """,
        retired_after,
    )
    return [dict(row["public_jwk"]) for row in rows]


async def insert_pending_key(
    conn: asyncpg.Pool | asyncpg.Connection,
    *,
    kid: str,
    private_key_pem: str,
    public_jwk: dict[str, Any],
    created_at: datetime,
) -> bool:
    """Insert a pending key unless one is pending already; return whether it was inserted."""
    return await _insert_key(conn, "pending", kid, private_key_pem, public_jwk, created_at)


async def get_pending_key(conn: asyncpg.Pool | asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT kid, created_at FROM signing_keys WHERE state = 'pending'")


async def promote_pending_key(conn: asyncpg.Connection, kid: str, *, now: datetime) -> bool:
    """Retire the active key and activate pending key `kid`, in the caller's transaction."""
    await conn.execute(
        "UPDATE signing_keys SET state = 'retired', retired_at = $1 WHERE state = 'active'", now
    )
    promoted = await conn.fetchval(
        """
        UPDATE signing_keys SET state = 'active' WHERE kid = $1 AND state = 'pending'
        RETURNING true
        """,
        kid,
    )
    return bool(promoted)


async def _insert_key(
    conn: asyncpg.Pool | asyncpg.Connection,
    state: Literal["active", "pending"],
    kid: str,
    private_key_pem: str,
    public_jwk: dict[str, Any],
    created_at: datetime,
) -> bool:
    # A partial unique index allows one key per state, so a concurrent insert is a no-op.
    inserted = await conn.fetchval(
        """
        INSERT INTO signing_keys (kid, algorithm, private_key_pem, public_jwk, state, created_at)
        VALUES ($1, 'EdDSA', $2, $3, $4, $5)
        ON CONFLICT DO NOTHING
        RETURNING true
        """,
        kid,
        private_key_pem,
        public_jwk,
        state,
        created_at,
    )
    return bool(inserted)
