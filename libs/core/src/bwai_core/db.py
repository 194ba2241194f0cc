"""PostgreSQL access through asyncpg: pools, transactions and numbered migrations.

Migrations are plain SQL files named `NNN_description.sql`, grouped by component (a lib such as
messaging, or the service itself). They run at start inside one transaction per file, under a
PostgreSQL advisory lock so that several replicas starting at once apply each file exactly once.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import asyncpg
import orjson
import structlog

log = structlog.get_logger()

# Any constant works as long as every replica uses the same one; this spells "bwai-mig".
MIGRATION_LOCK_KEY = 0x6277_6169_2D6D_6967 & 0x7FFF_FFFF_FFFF_FFFF
_MIGRATION_NAME = re.compile(r"^(\d{3,})_[a-z0-9_]+\.sql$")

Pool = asyncpg.Pool
Connection = asyncpg.Connection


@dataclass(frozen=True)
class MigrationSource:
    """A component's migrations: a package holding `NNN_name.sql` files."""

    component: str
    package: str
    folder: str = "migrations"

    def files(self) -> list[tuple[int, str, str]]:
        root: Traversable = resources.files(self.package).joinpath(self.folder)
        found = []
        for entry in root.iterdir():
            match = _MIGRATION_NAME.match(entry.name)
            if match:
                found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
        return sorted(found)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb in and out as Python objects; orjson is several times faster than json.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + orjson.dumps(value, default=_json_default),
        decoder=lambda data: orjson.loads(data[1:]),
        schema="pg_catalog",
        format="binary",
    )


def _json_default(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot store {type(value).__name__} in jsonb")


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Leave no transaction open on a connection returned to the pool, and nothing more.

    asyncpg's default reset also sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`, a round trip on every release. Code that takes session state (an advisory
    lock, LISTEN, SET) therefore undoes it itself before it releases the connection. asyncpg
    0.32 rolls back an open transaction before it calls this.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool whose connections decode jsonb and come back without an open transaction."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_reset_connection,
        # Each statement is prepared once per connection and reused; asyncpg's cache does it.
        statement_cache_size=256,
        command_timeout=30,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """Yield a connection inside a transaction that commits on exit and rolls back on error.

    asyncpg rolls back a released connection's open transaction, so a cancelled request never
    returns a connection to the pool with a transaction still open.
    """
    async with pool.acquire() as conn, conn.transaction():
        yield conn  # type: ignore[misc]  # a pool's proxy behaves as the connection it wraps


async def apply_migrations(pool: asyncpg.Pool, sources: Iterable[MigrationSource]) -> list[str]:
    """Apply every pending migration of each source in order; return the names applied."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await conn.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    component text NOT NULL,
                    version integer NOT NULL,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (component, version)
                )
                """
            )
            for source in sources:
                applied += await _apply_source(conn, source)  # type: ignore[arg-type]
        finally:
            await _unlock_or_close(conn, MIGRATION_LOCK_KEY)
    return applied


async def _unlock_or_close(conn: Any, key: int) -> None:
    # The pool's reset leaves advisory locks alone, so a connection that could not release
    # the lock is closed rather than returned to the pool still holding it.
    try:
        await conn.execute("SELECT pg_advisory_unlock($1)", key)
    except BaseException:
        conn.terminate()
        raise


async def _apply_source(conn: asyncpg.Connection, source: MigrationSource) -> list[str]:
    done = {
        row["version"]
        for row in await conn.fetch(
            "SELECT version FROM schema_migrations WHERE component = $1", source.component
        )
    }
    applied = []
    for version, name, sql in source.files():
        if version in done:
            continue
        async with conn.transaction():
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)",
                source.component,
                version,
                name,
            )
        log.info("db.migration.applied", component=source.component, migration=name)
        applied.append(f"{source.component}/{name}")
    return applied


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create database `name` through the server at `admin_dsn` unless it already exists."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"invalid database name {name!r}: use lower-case letters, digits, _")
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Another process may create it between our check and our create.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
