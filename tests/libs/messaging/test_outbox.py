"""Outbox: events stored with the state change and relayed once, woken by NOTIFY."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from bwai_contracts import topology
from bwai_core.clock import FrozenClock
from bwai_core.db import transaction
from bwai_messaging.envelope import Event, new_event
from bwai_messaging.errors import InvalidEvent
from bwai_messaging.memory_bus import InMemoryBus
from bwai_messaging.outbox import OutboxRelay, enqueue, enqueue_sql
from bwai_messaging.schemas import SchemaRegistry
from conftest import BusHarness
from messaging_helpers import GADGET_CREATED, Recorder, eventually, gadget_event, widget_event


async def test_enqueued_event_is_published_once(
    harness: BusHarness, db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    bus = await harness.create()
    recorder = Recorder()
    await bus.subscribe(harness.queue("widgets"), ["test.#"], recorder)
    relay = OutboxRelay(db_pool, bus, poll_interval_s=0.2)
    event, marker = widget_event(clock), gadget_event(clock)

    async with transaction(db_pool) as conn:
        await enqueue(conn, event, schemas=schemas)
    await relay.start()
    await recorder.wait_for_message(event.id)
    async with transaction(db_pool) as conn:
        await enqueue(conn, marker, schemas=schemas)
    await recorder.wait_for_message(marker.id)
    await eventually(_backlog_empty(relay))
    await relay.stop()

    assert recorder.message_ids == [event.id, marker.id]
    assert recorder.deliveries[0].body == event.to_bytes()


async def test_two_relays_publish_each_row_once(
    harness: BusHarness, db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    bus = await harness.create()
    recorder = Recorder()
    await bus.subscribe(harness.queue("widgets"), ["test.widget.created"], recorder)
    events = [widget_event(clock, name=f"w{index}") for index in range(600)]
    async with transaction(db_pool) as conn:
        await enqueue(conn, *events, schemas=schemas)
    relays = [OutboxRelay(db_pool, bus, batch_size=50, poll_interval_s=0.2) for _ in range(2)]

    await asyncio.gather(*(relay.start() for relay in relays))
    await recorder.wait_for_count(600)
    await eventually(_backlog_empty(relays[0]))
    await asyncio.gather(*(relay.stop() for relay in relays))

    assert len(recorder.message_ids) == 600
    assert set(recorder.message_ids) == {event.id for event in events}


async def test_relay_wakes_on_notify(
    harness: BusHarness, db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    bus = await harness.create()
    recorder = Recorder()
    await bus.subscribe(harness.queue("widgets"), ["test.widget.created"], recorder)
    # Polling alone would take a minute; the NOTIFY on commit must wake the relay at once.
    relay = OutboxRelay(db_pool, bus, poll_interval_s=60)
    await relay.start()
    await asyncio.sleep(0.1)  # let the relay finish its first, empty drain and start waiting
    event = widget_event(clock)

    async with transaction(db_pool) as conn:
        await enqueue(conn, event, schemas=schemas)
    await recorder.wait_for_message(event.id, limit_s=5)
    await relay.stop()

    assert recorder.message_ids == [event.id]


async def test_rolled_back_transaction_publishes_nothing(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    relay = OutboxRelay(db_pool, _NeverCalledBus())

    async def failing_order_insert() -> None:
        async with transaction(db_pool) as conn:
            await enqueue(conn, widget_event(clock), schemas=schemas)
            raise RuntimeError("order insert failed")

    with pytest.raises(RuntimeError, match="order insert failed"):
        await failing_order_insert()

    assert await relay.backlog() == 0
    assert await relay.relay_once() == 0


async def test_invalid_event_is_not_enqueued(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    valid = widget_event(clock)
    invalid = new_event("test.widget.created", {"name": ""}, source="/tests", clock=clock)

    async def enqueue_both() -> None:
        async with transaction(db_pool) as conn:
            await enqueue(conn, valid, invalid, schemas=schemas)

    with pytest.raises(InvalidEvent, match=r"data\.name must be longer than or equal to 1"):
        await enqueue_both()

    assert await OutboxRelay(db_pool, _NeverCalledBus()).backlog() == 0


async def test_unroutable_row_stays_and_backs_off(
    harness: BusHarness,
    db_pool: asyncpg.Pool,
    schemas: SchemaRegistry,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A type with a declared consumer whose queue does not exist yet is held and retried."""
    monkeypatch.setitem(topology.CONSUMERS, "test.widget.created", ("widgets",))
    bus = await harness.create()
    recorder = Recorder()
    await bus.subscribe(harness.queue("gadgets"), [GADGET_CREATED], recorder)
    relay = OutboxRelay(db_pool, bus)
    unroutable, routable = widget_event(clock), gadget_event(clock)
    async with transaction(db_pool) as conn:
        await enqueue(conn, unroutable, routable, schemas=schemas)

    claimed = await relay.relay_once()
    await recorder.wait_for_message(routable.id)
    row = await db_pool.fetchrow(
        "SELECT attempts, last_error, available_at > now() AS later FROM outbox"
    )

    assert claimed == 2
    assert await relay.backlog() == 1
    assert row is not None
    assert row["attempts"] == 1
    assert "no queue is bound to routing key 'test.widget.created'" in row["last_error"]
    assert row["later"] is True
    assert await relay.relay_once() == 0


async def test_unconsumed_type_counts_as_delivered(
    harness: BusHarness, db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    """An event type that no service consumes yet leaves the outbox instead of piling up."""
    bus = await harness.create()
    relay = OutboxRelay(db_pool, bus)
    async with transaction(db_pool) as conn:
        await enqueue(conn, widget_event(clock), schemas=schemas)

    claimed = await relay.relay_once()

    assert claimed == 1
    assert await relay.backlog() == 0


async def test_oldest_age_reports_waiting_rows(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    relay = OutboxRelay(db_pool, _NeverCalledBus())
    assert await relay.oldest_age_seconds() == 0
    async with transaction(db_pool) as conn:
        await enqueue(conn, widget_event(clock), schemas=schemas)
    await db_pool.execute("UPDATE outbox SET created_at = now() - interval '90 seconds'")

    age = await relay.oldest_age_seconds()

    assert 90 <= age < 120


def _backlog_empty(relay: OutboxRelay):  # type: ignore[no-untyped-def]
    async def empty() -> bool:
        return await relay.backlog() == 0

    return empty


class _NeverCalledBus(InMemoryBus):
    async def publish(self, event: Event) -> None:
        raise AssertionError("nothing should be published")


async def test_statement_enqueue_wakes_relay(
    harness: BusHarness, db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    bus = await harness.create()
    recorder = Recorder()
    await bus.subscribe(harness.queue("widgets"), ["test.widget.created"], recorder)
    relay = OutboxRelay(db_pool, bus, poll_interval_s=60)
    await relay.start()
    await asyncio.sleep(0.1)  # let the relay finish its first, empty drain and start waiting
    event = widget_event(clock)
    sql, args = enqueue_sql(event, schemas=schemas, first_parameter=1)

    # One statement on the pool, without BEGIN and COMMIT.
    await db_pool.execute(f"WITH outbox_rows AS ({sql}) SELECT 1", *args)
    await recorder.wait_for_message(event.id, limit_s=5)
    await relay.stop()

    assert recorder.message_ids == [event.id]


async def test_statement_enqueue_obeys_condition(
    db_pool: asyncpg.Pool, schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    sql, args = enqueue_sql(
        widget_event(clock), schemas=schemas, first_parameter=2, only_if="$1::boolean"
    )

    await db_pool.execute(f"WITH outbox_rows AS ({sql}) SELECT 1", False, *args)

    assert await OutboxRelay(db_pool, _NeverCalledBus()).backlog() == 0


def test_statement_enqueue_validates_events(schemas: SchemaRegistry, clock: FrozenClock) -> None:
    invalid = new_event("test.widget.created", {"name": ""}, source="/tests", clock=clock)

    with pytest.raises(InvalidEvent, match=r"data\.name"):
        enqueue_sql(invalid, schemas=schemas, first_parameter=1)
