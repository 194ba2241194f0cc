"""RabbitMQ-only behaviour: declared queues, reconnects, and no ack on a dead channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest
from bwai_core.clock import FrozenClock
from bwai_messaging.bus import Bus, Delivery
from bwai_messaging.envelope import Event
from bwai_messaging.errors import PublishFailed
from conftest import BusHarness
from messaging_helpers import Recorder, TcpProxy, eventually, widget_event

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
async def proxy(amqp_url: str) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(amqp_url)
    started = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672)
    await started.start()
    yield started
    await started.stop()


def through_proxy(amqp_url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(amqp_url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def publish_when_back(bus: Bus, event: Event) -> None:
    """Publish, retrying while the bus reconnects; fail after 15 seconds."""
    async with asyncio.timeout(15):
        while True:
            try:
                await bus.publish(event)
                return
            except PublishFailed:
                await asyncio.sleep(0.1)


async def test_subscribe_declares_retry_queues_and_dlq(
    rabbit_harness: BusHarness, amqp_url: str
) -> None:
    bus = await rabbit_harness.create()
    queue = rabbit_harness.queue("ledger")

    await bus.subscribe(queue, ["test.widget.created"], Recorder())

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in (queue, f"{queue}.retry.1", f"{queue}.retry.2", f"{queue}.dlq"):
            declared = await channel.declare_queue(name, passive=True)
            assert declared.name == name


async def test_consumer_keeps_consuming_after_connection_loss(
    rabbit_harness: BusHarness, amqp_url: str, proxy: TcpProxy, clock: FrozenClock
) -> None:
    bus = await rabbit_harness.create(url=through_proxy(amqp_url, proxy))
    recorder = Recorder()
    await bus.subscribe(rabbit_harness.queue("ledger"), ["test.widget.created"], recorder)
    before, after = widget_event(clock, name="before"), widget_event(clock, name="after")
    await bus.publish(before)
    await recorder.wait_for_message(before.id)

    proxy.cut()
    await publish_when_back(bus, after)
    await recorder.wait_for_message(after.id, limit_s=15)

    # `before` may arrive twice: the cut can beat its ack to the broker, which then redelivers.
    assert set(recorder.message_ids) == {before.id, after.id}
    assert recorder.message_ids[-1] == after.id
    assert bus.is_ready()


async def test_message_in_flight_during_loss_is_redelivered(
    rabbit_harness: BusHarness, amqp_url: str, proxy: TcpProxy, clock: FrozenClock
) -> None:
    release = asyncio.Event()

    async def block_first(delivery: Delivery) -> None:
        if len(recorder.deliveries) == 1:
            await release.wait()

    bus = await rabbit_harness.create(url=through_proxy(amqp_url, proxy))
    recorder = Recorder(block_first)
    queue = rabbit_harness.queue("ledger")
    await bus.subscribe(queue, ["test.widget.created"], recorder)
    event = widget_event(clock)
    await bus.publish(event)
    await recorder.wait_for_count(1)

    proxy.cut()
    await eventually(_not_ready(bus))
    release.set()
    await recorder.wait_for_count(2, limit_s=15)

    assert recorder.message_ids == [event.id, event.id]
    assert recorder.attempts_of(event.id) == [1, 1]
    assert await bus.dead_letters(queue) == []


async def test_publish_while_disconnected_fails(
    rabbit_harness: BusHarness, amqp_url: str, proxy: TcpProxy, clock: FrozenClock
) -> None:
    bus = await rabbit_harness.create(url=through_proxy(amqp_url, proxy))
    await bus.subscribe(rabbit_harness.queue("ledger"), ["test.widget.created"], Recorder())
    await proxy.stop()
    await eventually(_not_ready(bus))

    with pytest.raises(PublishFailed):
        await bus.publish(widget_event(clock))


def _not_ready(bus: Bus):  # type: ignore[no-untyped-def]
    async def lost() -> bool:
        return not bus.is_ready()

    return lost
