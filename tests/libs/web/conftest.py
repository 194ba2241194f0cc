"""Fixtures for the bwai_web tests: a database with the idempotency table, a signing key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from bwai_core.db import apply_migrations, create_pool
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_web.idempotency import IDEMPOTENCY_MIGRATIONS
from web_support import KeyPair, StaticJWKS, new_key


@pytest.fixture(scope="session")
async def web_pool(fresh_database: Callable[[str], Awaitable[str]]) -> AsyncIterator[asyncpg.Pool]:
    dsn = await fresh_database("web")
    pool = await create_pool(dsn, min_size=2, max_size=20)
    await apply_migrations(pool, [MESSAGING_MIGRATIONS, IDEMPOTENCY_MIGRATIONS])
    yield pool
    await pool.close()


@pytest.fixture
def signing_key() -> KeyPair:
    return new_key("key-1")


@pytest.fixture
def jwks(signing_key: KeyPair) -> StaticJWKS:
    return StaticJWKS(signing_key)
