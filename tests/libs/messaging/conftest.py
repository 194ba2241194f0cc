"""Fixtures of the messaging tests: schemas with test event types, both buses, a migrated pool."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aio_pika
import asyncpg
import pytest
from bwai_core.db import apply_migrations, create_pool
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_messaging.bus import Bus, RetryPolicy
from bwai_messaging.memory_bus import InMemoryBus
from bwai_messaging.rabbit_bus import RabbitBus
from bwai_messaging.schemas import SchemaRegistry
from messaging_helpers import GADGET_CREATED, GADGET_SCHEMA, WIDGET_CREATED, WIDGET_SCHEMA

# Short delays keep retry tests fast; three attempts exercise both retry queues.
FAST_RETRY = RetryPolicy(max_attempts=3, delays_ms=(20, 50))


@pytest.fixture(scope="session")
def schemas() -> SchemaRegistry:
    return SchemaRegistry.from_contracts(
        {(WIDGET_CREATED, 1): WIDGET_SCHEMA, (GADGET_CREATED, 1): GADGET_SCHEMA}
    )


@dataclass
class BusHarness:
    """Creates connected buses of one transport and removes what they declared afterwards."""

    kind: str
    amqp_url: str | None
    exchange: str = field(default_factory=lambda: f"bwai.test.{uuid.uuid4().hex[:10]}")
    queues: list[str] = field(default_factory=list)
    buses: list[Bus] = field(default_factory=list)

    def queue(self, label: str) -> str:
        name = f"test.{label}.{uuid.uuid4().hex[:10]}"
        self.queues.append(name)
        return name

    async def create(self, retry: RetryPolicy = FAST_RETRY, *, url: str | None = None) -> Bus:
        bus: Bus
        if self.kind == "memory":
            bus = InMemoryBus(retry)
        else:
            assert self.amqp_url is not None
            bus = RabbitBus(
                url or self.amqp_url, exchange=self.exchange, retry=retry, reconnect_interval_s=0.2
            )
        await bus.connect()
        self.buses.append(bus)
        return bus

    async def cleanup(self) -> None:
        for bus in self.buses:
            await bus.close()
        if self.kind == "rabbitmq":
            await self._delete_broker_objects()

    async def _delete_broker_objects(self) -> None:
        assert self.amqp_url is not None
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            for queue in self.queues:
                for name in (queue, f"{queue}.dlq", f"{queue}.retry.1", f"{queue}.retry.2"):
                    await channel.queue_delete(name)
            await channel.exchange_delete(self.exchange)


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[BusHarness]:
    url = request.getfixturevalue("amqp_url") if request.param == "rabbitmq" else None
    created = BusHarness(request.param, url)
    yield created
    await created.cleanup()


@pytest.fixture
async def rabbit_harness(amqp_url: str) -> AsyncIterator[BusHarness]:
    created = BusHarness("rabbitmq", amqp_url)
    yield created
    await created.cleanup()


@pytest.fixture
async def db_pool(
    fresh_database: Callable[[str], Awaitable[str]],
) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a new database with the messaging tables and a `widgets` table for effects."""
    pool = await create_pool(await fresh_database("messaging"), min_size=1, max_size=20)
    await apply_migrations(pool, [MESSAGING_MIGRATIONS])
    await pool.execute("CREATE TABLE widgets (event_id text NOT NULL, name text NOT NULL)")
    yield pool
    await pool.close()
