"""The same bus scenarios against the in-memory bus and RabbitMQ."""

from __future__ import annotations

import pytest
from bwai_core.clock import FrozenClock
from bwai_messaging.bus import Bus, Delivery
from bwai_messaging.errors import InvalidEvent, PublishFailed, RejectEvent, RetryLater
from conftest import BusHarness
from messaging_helpers import (
    GADGET_CREATED,
    Recorder,
    eventually,
    gadget_event,
    widget_event,
)


async def _dead_letter_count(bus: Bus, queue: str, count: int) -> None:
    async def reached() -> bool:
        return len(await bus.dead_letters(queue)) >= count

    await eventually(reached)


async def test_publish_routes_by_topic_pattern(harness: BusHarness, clock: FrozenClock) -> None:
    bus = await harness.create()
    widgets, everything, gadgets = Recorder(), Recorder(), Recorder()
    await bus.subscribe(harness.queue("widgets"), ["test.widget.*"], widgets)
    await bus.subscribe(harness.queue("all"), ["test.#"], everything)
    await bus.subscribe(harness.queue("gadgets"), [GADGET_CREATED], gadgets)
    widget, gadget = widget_event(clock), gadget_event(clock)

    await bus.publish(widget)
    await bus.publish(gadget)
    await everything.wait_for_count(2)
    await gadgets.wait_for_message(gadget.id)
    await widgets.wait_for_message(widget.id)

    assert widgets.message_ids == [widget.id]
    assert sorted(everything.message_ids) == sorted([widget.id, gadget.id])
    assert gadgets.message_ids == [gadget.id]


async def test_delivery_carries_event_bytes_and_headers(
    harness: BusHarness, clock: FrozenClock
) -> None:
    bus = await harness.create()
    recorder = Recorder()
    await bus.subscribe(harness.queue("widgets"), ["test.widget.created"], recorder)
    event = widget_event(clock)

    await bus.publish(event)
    await recorder.wait_for_count(1)

    delivery = recorder.deliveries[0]
    assert delivery.body == event.to_bytes()
    assert delivery.attempt == 1
    assert delivery.headers["traceparent"] == event.traceparent


async def test_handled_message_is_acked_once(harness: BusHarness, clock: FrozenClock) -> None:
    bus = await harness.create()
    recorder = Recorder()
    queue = harness.queue("widgets")
    await bus.subscribe(queue, ["test.#"], recorder)
    first, marker = widget_event(clock), gadget_event(clock)

    await bus.publish(first)
    await recorder.wait_for_message(first.id)
    await bus.publish(marker)
    await recorder.wait_for_message(marker.id)

    assert recorder.message_ids == [first.id, marker.id]
    assert await bus.dead_letters(queue) == []


async def test_retry_later_then_success(harness: BusHarness, clock: FrozenClock) -> None:
    async def fail_twice(delivery: Delivery) -> None:
        if delivery.attempt < 3:
            raise RetryLater("ledger busy")

    bus = await harness.create()
    recorder = Recorder(fail_twice)
    queue = harness.queue("widgets")
    await bus.subscribe(queue, ["test.widget.created"], recorder)
    event = widget_event(clock)

    await bus.publish(event)
    await recorder.wait_for_count(3)

    assert recorder.attempts_of(event.id) == [1, 2, 3]
    assert await bus.dead_letters(queue) == []


async def test_retries_exhausted_dead_letters_with_reason(
    harness: BusHarness, clock: FrozenClock
) -> None:
    async def always_fail(delivery: Delivery) -> None:
        raise RuntimeError("ledger unreachable")

    bus = await harness.create()
    recorder = Recorder(always_fail)
    queue = harness.queue("widgets")
    await bus.subscribe(queue, ["test.widget.created"], recorder)
    event = widget_event(clock)

    await bus.publish(event)
    await _dead_letter_count(bus, queue, 1)

    [letter] = await bus.dead_letters(queue)
    assert recorder.attempts_of(event.id) == [1, 2, 3]
    assert letter.message_id == event.id
    assert letter.queue == queue
    assert letter.attempts == 3
    assert letter.reason == "failed after 3 attempts: RuntimeError: ledger unreachable"
    assert letter.body == event.to_bytes()


async def test_reject_dead_letters_without_retry(harness: BusHarness, clock: FrozenClock) -> None:
    async def reject(delivery: Delivery) -> None:
        raise RejectEvent("order does not exist")

    bus = await harness.create()
    recorder = Recorder(reject)
    queue = harness.queue("widgets")
    await bus.subscribe(queue, ["test.widget.created"], recorder)
    event = widget_event(clock)

    await bus.publish(event)
    await _dead_letter_count(bus, queue, 1)

    [letter] = await bus.dead_letters(queue)
    assert recorder.attempts_of(event.id) == [1]
    assert letter.reason == "rejected: order does not exist"
    assert letter.attempts == 1


async def test_invalid_event_dead_letters_at_once(harness: BusHarness, clock: FrozenClock) -> None:
    async def invalid(delivery: Delivery) -> None:
        raise InvalidEvent("data.name must be string")

    bus = await harness.create()
    recorder = Recorder(invalid)
    queue = harness.queue("widgets")
    await bus.subscribe(queue, ["test.widget.created"], recorder)

    await bus.publish(widget_event(clock))
    await _dead_letter_count(bus, queue, 1)

    [letter] = await bus.dead_letters(queue)
    assert letter.reason == "invalid event: data.name must be string"
    assert len(recorder.deliveries) == 1


async def test_dead_letters_listing_keeps_messages(harness: BusHarness, clock: FrozenClock) -> None:
    async def reject(delivery: Delivery) -> None:
        raise RejectEvent("not ours")

    bus = await harness.create()
    queue = harness.queue("widgets")
    await bus.subscribe(queue, ["test.widget.created"], Recorder(reject))
    events = [widget_event(clock, name=f"w{index}") for index in range(3)]
    for event in events:
        await bus.publish(event)
    await _dead_letter_count(bus, queue, 3)

    first = await bus.dead_letters(queue)
    second = await bus.dead_letters(queue)

    assert sorted(letter.message_id for letter in first) == sorted(e.id for e in events)
    assert sorted(letter.message_id for letter in second) == sorted(e.id for e in events)


async def test_replay_moves_one_dead_letter_back(harness: BusHarness, clock: FrozenClock) -> None:
    accepting = False

    async def reject_until_fixed(delivery: Delivery) -> None:
        if not accepting:
            raise RejectEvent("order does not exist yet")

    bus = await harness.create()
    recorder = Recorder(reject_until_fixed)
    queue = harness.queue("widgets")
    await bus.subscribe(queue, ["test.widget.created"], recorder)
    replayed, kept = widget_event(clock, name="a"), widget_event(clock, name="b")
    await bus.publish(replayed)
    await bus.publish(kept)
    await _dead_letter_count(bus, queue, 2)
    accepting = True

    found = await bus.replay_dead_letter(queue, replayed.id)
    await recorder.wait_for_count(3)

    assert found is True
    assert recorder.attempts_of(replayed.id) == [1, 1]
    assert [letter.message_id for letter in await bus.dead_letters(queue)] == [kept.id]


async def test_replay_of_unknown_message_returns_false(harness: BusHarness) -> None:
    bus = await harness.create()
    queue = harness.queue("widgets")
    await bus.subscribe(queue, ["test.widget.created"], Recorder())

    found = await bus.replay_dead_letter(queue, "00000000-0000-7000-8000-000000000000")

    assert found is False


async def test_unroutable_publish_fails(harness: BusHarness, clock: FrozenClock) -> None:
    bus = await harness.create()
    recorder = Recorder()
    await bus.subscribe(harness.queue("gadgets"), [GADGET_CREATED], recorder)

    with pytest.raises(PublishFailed, match=r"test\.widget\.created"):
        await bus.publish(widget_event(clock))

    assert recorder.deliveries == []


async def test_competing_consumers_share_a_queue(harness: BusHarness, clock: FrozenClock) -> None:
    first_bus, second_bus = await harness.create(), await harness.create()
    first, second = Recorder(), Recorder()
    queue = harness.queue("widgets")
    await first_bus.subscribe(queue, ["test.widget.created"], first, prefetch=1)
    await second_bus.subscribe(queue, ["test.widget.created"], second, prefetch=1)
    events = [widget_event(clock, name=f"w{index}") for index in range(20)]

    for event in events:
        await first_bus.publish(event)
    await eventually(_delivered_total(first, second, 20))

    assert sorted(first.message_ids + second.message_ids) == sorted(e.id for e in events)


def _delivered_total(first: Recorder, second: Recorder, total: int):  # type: ignore[no-untyped-def]
    async def reached() -> bool:
        return len(first.deliveries) + len(second.deliveries) >= total

    return reached
