"""Fixtures for identity: a migrated database, an active signing key and the HTTP app."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from bwai_core.clock import FrozenClock
from bwai_core.db import apply_migrations, create_pool
from bwai_identity.definition import SERVICE
from bwai_identity.keys.service import ensure_active_key, load_jwks
from bwai_identity.settings import IdentitySettings
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_messaging.schemas import SchemaRegistry
from bwai_web.auth import JWKSCache, TokenVerifier
from bwai_web.service import ServiceContext

sys.path.insert(0, str(Path(__file__).parents[2] / "libs" / "web"))
from web_support import make_context


@pytest.fixture
async def identity_pool(
    fresh_database: Callable[[str], Awaitable[str]],
) -> AsyncIterator[asyncpg.Pool]:
    dsn = await fresh_database("identity")
    pool = await create_pool(dsn)
    await apply_migrations(pool, [MESSAGING_MIGRATIONS, *SERVICE.migrations])
    yield pool
    await pool.close()


@pytest.fixture
async def identity_ctx(
    identity_pool: asyncpg.Pool, clock: FrozenClock
) -> AsyncIterator[ServiceContext]:
    settings = IdentitySettings(environment="test")
    await ensure_active_key(identity_pool, clock)

    async def fetch() -> dict[str, object]:
        return await load_jwks(identity_pool, clock=clock)

    verifier = TokenVerifier(
        JWKSCache(fetch), issuer=settings.jwt_issuer, audience=settings.jwt_audience, clock=clock
    )
    ctx = make_context(
        pool=identity_pool,
        clock=clock,
        verifier=verifier,
        settings=settings,
        schemas=SchemaRegistry.default(),
        name="identity",
    )
    await ctx.bus.connect()
    yield ctx
    await ctx.bus.close()


@pytest.fixture
async def identity_client(identity_ctx: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    app = SERVICE.create_app(identity_ctx)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
