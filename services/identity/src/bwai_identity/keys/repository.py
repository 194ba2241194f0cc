"""SQL for signing keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    inserted = await conn.fetchval(
        """
        INSERT INTO signing_keys (kid, algorithm, private_key_pem, public_jwk, state, created_at)
        VALUES ($1, 'EdDSA', $2, $3, 'active', $4)
        ON CONFLICT DO NOTHING
        RETURNING true
        """,
        kid,
        private_key_pem,
        public_jwk,
        created_at,
    )
    return bool(inserted)


async def get_active_key(conn: asyncpg.Pool | asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT kid, private_key_pem FROM signing_keys WHERE state = 'active'"
    )


async def list_published_jwks(
    conn: asyncpg.Pool | asyncpg.Connection, *, retired_after: datetime
) -> list[dict[str, Any]]:
    """Return the public JWKs of the active key and of keys retired after `retired_after`."""
    rows = await conn.fetch(
        """
        SELECT public_jwk FROM signing_keys
        WHERE state = 'active' OR retired_at > $1
        ORDER BY created_at DESC
        """,
        retired_after,
    )
    return [dict(row["public_jwk"]) for row in rows]
