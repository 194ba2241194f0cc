"""A webhooks-ingest app on a real PostgreSQL database, driven in-process through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import asyncpg
import httpx
import pytest
from bwai_core.clock import FrozenClock
from bwai_core.db import apply_migrations, create_pool
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_messaging.memory_bus import InMemoryBus
from bwai_messaging.schemas import SchemaRegistry
from bwai_web.service import ServiceContext
from bwai_webhooks_ingest.definition import SERVICE
from bwai_webhooks_ingest.settings import WebhooksSettings
from webhooks_fixtures import CLIENT_ADDRESS, COINBASE_SECRET, IPN_SECRET, ClientFactory


@pytest.fixture(scope="module")
async def webhooks_pool(fresh_database: Callable[[str], Awaitable[str]]) -> AsyncIterator[Any]:
    dsn = await fresh_database("webhooks")
    pool = await create_pool(dsn, min_size=2, max_size=10)
    await apply_migrations(pool, [MESSAGING_MIGRATIONS, *SERVICE.migrations])
    yield pool
    await pool.close()


@pytest.fixture
async def pool(webhooks_pool: asyncpg.Pool) -> asyncpg.Pool:
    """The module's database, emptied before each test."""
    await webhooks_pool.execute("TRUNCATE webhook_deliveries, provider_events, outbox")
    return webhooks_pool


@pytest.fixture
async def make_client(pool: asyncpg.Pool, clock: FrozenClock) -> AsyncIterator[ClientFactory]:
    """Return a factory of HTTP clients bound to an app built with the given settings."""
    clients: list[httpx.AsyncClient] = []

    async def create(**settings: Any) -> httpx.AsyncClient:
        values = {
            "environment": "test",
            "nowpayments_ipn_secret": IPN_SECRET,
            "coinbase_commerce_webhook_secret": COINBASE_SECRET,
            **settings,
        }
        ctx = ServiceContext(
            name="webhooks-ingest",
            settings=WebhooksSettings(**values),
            pool=pool,
            bus=InMemoryBus(),
            clock=clock,
            schemas=SchemaRegistry.default(),
            # Webhook routes need neither tokens nor outgoing HTTP.
            token_verifier=cast(Any, None),
            http=cast(Any, None),
        )
        transport = httpx.ASGITransport(app=SERVICE.create_app(ctx), client=CLIENT_ADDRESS)
        client = httpx.AsyncClient(transport=transport, base_url="http://webhooks.test")
        clients.append(client)
        return client

    yield create
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(make_client: ClientFactory) -> httpx.AsyncClient:
    return await make_client()
