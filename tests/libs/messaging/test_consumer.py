"""Inbox consumer: each event applied once, in the transaction that records it."""

from __future__ import annotations

import asyncio

import asyncpg
import orjson
import pytest
from bwai_core.clock import FrozenClock
from bwai_messaging.bus import Delivery
from bwai_messaging.consumer import EventConsumer
from bwai_messaging.envelope import Event, current_traceparent
from bwai_messaging.errors import InvalidEvent, RejectEvent
from bwai_messaging.schemas import SchemaRegistry
from conftest import BusHarness
from messaging_helpers import WIDGET_CREATED, Recorder, eventually, widget_event


async def insert_widget(conn: asyncpg.Connection, event: Event) -> None:
    await conn.execute(
        "INSERT INTO widgets (event_id, name) VALUES ($1, $2)", event.id, event.data["name"]
    )


def delivery_of(event: Event, attempt: int = 1) -> Delivery:
    return Delivery(event.to_bytes(), event.id, attempt, {})


async def widget_count(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM widgets")
    return count


async def test_duplicate_delivery_applies_once(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    consumer = EventConsumer("ledger", db_pool, schemas, {WIDGET_CREATED: insert_widget})
    event = widget_event(clock)

    await consumer(delivery_of(event))
    await consumer(delivery_of(event))

    assert await widget_count(db_pool) == 1
    assert await db_pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event.id) == 1


async def test_concurrent_duplicates_apply_once(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    async def slow_insert(conn: asyncpg.Connection, event: Event) -> None:
        await insert_widget(conn, event)
        await asyncio.sleep(0.05)  # hold the transaction open so the duplicates overlap

    consumers = [
        EventConsumer("ledger", db_pool, schemas, {WIDGET_CREATED: slow_insert}) for _ in range(2)
    ]
    event = widget_event(clock)

    await asyncio.gather(*(consumers[index % 2](delivery_of(event)) for index in range(10)))

    assert await widget_count(db_pool) == 1


async def test_failed_first_attempt_is_retried(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    calls = 0

    async def fail_first(conn: asyncpg.Connection, event: Event) -> None:
        nonlocal calls
        calls += 1
        await insert_widget(conn, event)
        if calls == 1:
            raise ConnectionError("provider lookup timed out")

    consumer = EventConsumer("ledger", db_pool, schemas, {WIDGET_CREATED: fail_first})
    event = widget_event(clock)

    with pytest.raises(ConnectionError):
        await consumer(delivery_of(event, attempt=1))
    failure = await db_pool.fetchrow("SELECT * FROM inbox_failures WHERE event_id = $1", event.id)
    inbox_rows_after_failure = await db_pool.fetchval("SELECT count(*) FROM inbox")
    widgets_after_failure = await widget_count(db_pool)
    await consumer(delivery_of(event, attempt=2))

    assert inbox_rows_after_failure == 0
    assert widgets_after_failure == 0
    assert failure is not None
    assert failure["queue"] == "ledger"
    assert failure["attempts"] == 1
    assert failure["last_error"] == "ConnectionError: provider lookup timed out"
    assert await widget_count(db_pool) == 1
    assert await db_pool.fetchval("SELECT count(*) FROM inbox_failures") == 0


async def test_reject_leaves_no_effect(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    async def reject(conn: asyncpg.Connection, event: Event) -> None:
        await insert_widget(conn, event)
        raise RejectEvent("order does not exist")

    consumer = EventConsumer("ledger", db_pool, schemas, {WIDGET_CREATED: reject})

    with pytest.raises(RejectEvent):
        await consumer(delivery_of(widget_event(clock)))

    assert await widget_count(db_pool) == 0
    assert await db_pool.fetchval("SELECT count(*) FROM inbox") == 0
    assert await db_pool.fetchval("SELECT count(*) FROM inbox_failures") == 0


async def test_event_without_handler_is_rejected(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    consumer = EventConsumer("ledger", db_pool, schemas, {"test.gadget.created": insert_widget})

    with pytest.raises(RejectEvent, match=r"no handler for event type 'test\.widget\.created'"):
        await consumer(delivery_of(widget_event(clock)))

    assert await db_pool.fetchval("SELECT count(*) FROM inbox") == 0


async def test_invalid_body_raises_invalid_event(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry
) -> None:
    consumer = EventConsumer("ledger", db_pool, schemas, {WIDGET_CREATED: insert_widget})

    with pytest.raises(InvalidEvent, match="body is not JSON"):
        await consumer(Delivery(b"not json", "m-1", 1, {}))

    assert await db_pool.fetchval("SELECT count(*) FROM inbox") == 0


async def test_handler_sees_event_traceparent(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    seen: list[str | None] = []

    async def remember(conn: asyncpg.Connection, event: Event) -> None:
        seen.append(current_traceparent())

    consumer = EventConsumer("ledger", db_pool, schemas, {WIDGET_CREATED: remember})
    event = widget_event(clock)

    await consumer(delivery_of(event))

    assert seen == [event.traceparent]
    assert current_traceparent() is None


async def test_invalid_event_is_dead_lettered_with_reason(
    harness: BusHarness, db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    bus = await harness.create()
    queue = harness.queue("ledger")
    consumer = EventConsumer("ledger", db_pool, schemas, {WIDGET_CREATED: insert_widget})
    await bus.subscribe(queue, consumer.event_types, consumer)
    # The bus does not validate on publish (the outbox does), so a bad event can reach a queue.
    document = orjson.loads(widget_event(clock).to_bytes())
    document["data"] = {"name": 42}
    invalid = Event.from_dict(document)

    await bus.publish(invalid)
    await eventually(_has_dead_letters(harness, queue))

    [letter] = await bus.dead_letters(queue)
    assert letter.message_id == invalid.id
    assert letter.reason.startswith("invalid event: ")
    assert "data.name must be string" in letter.reason
    assert letter.attempts == 1
    assert await widget_count(db_pool) == 0


async def test_consumer_on_bus_applies_redelivered_event_once(
    harness: BusHarness, db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    bus = await harness.create()
    queue = harness.queue("ledger")
    consumer = EventConsumer("ledger", db_pool, schemas, {WIDGET_CREATED: insert_widget})
    recorder = Recorder(consumer)
    await bus.subscribe(queue, consumer.event_types, recorder)
    event = widget_event(clock)

    await bus.publish(event)
    await bus.publish(event)
    await recorder.wait_for_count(2)
    await eventually(_inbox_has(db_pool, event.id))

    assert await widget_count(db_pool) == 1
    assert await bus.dead_letters(queue) == []


def _has_dead_letters(harness: BusHarness, queue: str):  # type: ignore[no-untyped-def]
    async def found() -> bool:
        return bool(await harness.buses[0].dead_letters(queue))

    return found


def _inbox_has(pool: asyncpg.Pool, event_id: str):  # type: ignore[no-untyped-def]
    async def found() -> bool:
        return bool(await pool.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", event_id))

    return found
