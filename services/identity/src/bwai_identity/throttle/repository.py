"""SQL for failed-attempt counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg


async def latest_lock(
    conn: asyncpg.Pool | asyncpg.Connection, keys: Sequence[str]
) -> datetime | None:
    """Return the latest `locked_until` among `keys`, or None when none is locked at all."""
    value: datetime | None = await conn.fetchval(
        "SELECT max(locked_until) FROM auth_throttle WHERE key = ANY($1::text[])", list(keys)
    )
    return value


async def count_failure(
    conn: asyncpg.Pool | asyncpg.Connection, key: str, *, now: datetime, window_start: datetime
) -> int:
    """Add one failure to `key` (restarting the count after a quiet window); return the count."""
    failures: int = await conn.fetchval(
        """
        INSERT INTO auth_throttle (key, failures, last_failure_at) VALUES ($1, 1, $2)
        ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN auth_throttle.last_failure_at < $3 THEN 1
                            ELSE auth_throttle.failures + 1 END,
            last_failure_at = $2
        RETURNING failures
        """,
        key,
        now,
        window_start,
    )
    return failures


async def set_lock(
    conn: asyncpg.Pool | asyncpg.Connection, key: str, locked_until: datetime | None
) -> None:
    await conn.execute(
        "UPDATE auth_throttle SET locked_until = $2 WHERE key = $1", key, locked_until
    )


async def delete(conn: asyncpg.Pool | asyncpg.Connection, key: str) -> None:
    await conn.execute("DELETE FROM auth_throttle WHERE key = $1", key)


async def lock_until(conn: asyncpg.Pool | asyncpg.Connection, key: str, until: datetime) -> None:
    """Lock `key` until `until` without counting a failure (rate limits, not brute force)."""
    await conn.execute(
        """
        INSERT INTO auth_throttle (key, failures, last_failure_at, locked_until)
        VALUES ($1, 0, $2, $2)
        ON CONFLICT (key) DO UPDATE SET locked_until = $2
        """,
        key,
        until,
    )
