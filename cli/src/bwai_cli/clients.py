"""`bwai clients create`: make an API client directly in identity's database.

This is how the first operator credentials come to exist, so it cannot go through the API that
needs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from bwai_core.clock import SystemClock
from bwai_core.db import apply_migrations, create_pool
from bwai_identity.clients.service import create_client
from bwai_identity.definition import SERVICE as IDENTITY
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_messaging.schemas import SchemaRegistry


@asynccontextmanager
async def identity_pool(database_url: str | None, data_dir: Path) -> AsyncIterator[asyncpg.Pool]:
    """Open identity's database (the embedded one unless a URL is given), migrated."""
    pg = None
    if database_url is None:
        database_url, pg = await _embedded_identity_url(data_dir)
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        await apply_migrations(pool, [MESSAGING_MIGRATIONS, *IDENTITY.migrations])
        yield pool
    finally:
        await pool.close()
        if pg is not None:
            await asyncio.to_thread(pg.cleanup)


async def create(
    tenant: str, role: str, name: str | None, database_url: str | None, data_dir: Path
) -> dict[str, Any]:
    async with identity_pool(database_url, data_dir) as pool:
        created = await create_client(
            pool,
            tenant=tenant,
            role=role,
            name=name,
            clock=SystemClock(),
            schemas=SchemaRegistry.default(),
        )
    return {
        "client_id": created.client_id,
        "client_secret": created.client_secret,
        "tenant": tenant,
        "tenant_id": created.tenant_id,
        "tenant_created": created.tenant_created,
        "role": role,
    }


async def _embedded_identity_url(data_dir: Path) -> tuple[str, Any]:
    import pgserver

    pg_dir = data_dir / "pg"
    if not await asyncio.to_thread(pg_dir.exists):
        raise SystemExit(
            f"no embedded database in {pg_dir}: start the platform with `make dev` first, "
            "or pass --database-url for identity's database"
        )
    server = await asyncio.to_thread(pgserver.get_server, pg_dir, cleanup_mode="stop")
    uri: str = server.get_uri("bwai_identity")
    return uri, server
