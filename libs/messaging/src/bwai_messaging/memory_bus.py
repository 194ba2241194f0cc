"""The in-process bus of the embedded mode, with the RabbitMQ bus's routing and failure semantics.

Messages live only in memory: anything queued, waiting for a retry or dead-lettered is lost when
the process stops. That is the embedded mode's trade-off; distributed mode uses RabbitBus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC

import structlog
from bwai_core.clock import Clock, SystemClock
from bwai_telemetry.metrics import count_dead_letter

from bwai_messaging.bus import (
    DeadLetter,
    DeadLetterNow,
    Delivery,
    Handler,
    Retry,
    RetryPolicy,
    decide_failure,
    topic_matches,
)
from bwai_messaging.envelope import Event
from bwai_messaging.errors import PublishFailed, Unroutable

log = structlog.get_logger()


@dataclass
class _Queue:
    name: str
    bindings: set[str] = field(default_factory=set)
    messages: asyncio.Queue[Delivery] = field(default_factory=asyncio.Queue)
    dead: list[DeadLetter] = field(default_factory=list)
    workers: list[asyncio.Task[None]] = field(default_factory=list)


class InMemoryBus:
    """A topic-routed bus inside one process; `prefetch` workers consume each subscription."""

    def __init__(self, retry: RetryPolicy | None = None, *, clock: Clock | None = None) -> None:
        self._retry = retry or RetryPolicy()
        self._clock = clock or SystemClock()
        self._queues: dict[str, _Queue] = {}
        self._timers: set[asyncio.Task[None]] = set()
        self._ready = False

    async def connect(self) -> None:
        self._ready = True

    async def close(self) -> None:
        self._ready = False
        workers = [task for queue in self._queues.values() for task in queue.workers]
        tasks = [*self._timers, *workers]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._timers.clear()
        for queue in self._queues.values():
            queue.workers.clear()

    def is_ready(self) -> bool:
        return self._ready

    async def publish(self, event: Event) -> None:
        if not self._ready:
            raise PublishFailed("the in-memory bus is not connected")
        targets = [
            queue
            for queue in self._queues.values()
            if any(topic_matches(pattern, event.type) for pattern in queue.bindings)
        ]
        if not targets:
            raise Unroutable(f"no queue is bound to routing key {event.type!r}")
        headers = {"traceparent": event.traceparent} if event.traceparent else {}
        delivery = Delivery(event.to_bytes(), event.id, 1, headers)
        for queue in targets:
            queue.messages.put_nowait(delivery)

    async def subscribe(
        self, queue: str, bindings: Sequence[str], handler: Handler, *, prefetch: int = 64
    ) -> None:
        """Bind the queue and start `prefetch` workers; subscribing again adds competing workers."""
        if prefetch < 1:
            raise ValueError(f"prefetch must be at least 1, got {prefetch}")
        state = self._queues.setdefault(queue, _Queue(queue))
        state.bindings.update(bindings)
        for _ in range(prefetch):
            state.workers.append(asyncio.create_task(self._consume(state, handler)))

    async def dead_letters(self, queue: str) -> list[DeadLetter]:
        state = self._queues.get(queue)
        return list(state.dead) if state else []

    async def replay_dead_letter(self, queue: str, message_id: str) -> bool:
        state = self._queues.get(queue)
        if state is None:
            return False
        for index, letter in enumerate(state.dead):
            if letter.message_id == message_id:
                del state.dead[index]
                state.messages.put_nowait(Delivery(letter.body, letter.message_id, 1, {}))
                log.info("bus.dead_letter.replayed", queue=queue, message_id=message_id)
                return True
        return False

    async def _consume(self, state: _Queue, handler: Handler) -> None:
        while True:
            delivery = await state.messages.get()
            try:
                await handler(delivery)
            except asyncio.CancelledError:
                # Stopping mid-message: keep it for a later consumer, as a broker would.
                state.messages.put_nowait(delivery)
                raise
            except Exception as error:  # noqa: BLE001 - every failure is settled by decide_failure
                self._settle_failure(state, delivery, error)

    def _settle_failure(self, state: _Queue, delivery: Delivery, error: Exception) -> None:
        outcome = decide_failure(error, delivery.attempt, self._retry)
        if isinstance(outcome, Retry):
            log.warning(
                "bus.message.retry_scheduled",
                queue=state.name,
                message_id=delivery.message_id,
                attempt=delivery.attempt,
                delay_ms=outcome.delay_ms,
                error=outcome.error,
            )
            again = replace(delivery, attempt=outcome.next_attempt)
            self._schedule(state, again, outcome.delay_ms)
            return
        assert isinstance(outcome, DeadLetterNow)
        self._dead_letter(state, delivery, outcome.reason)

    def _schedule(self, state: _Queue, delivery: Delivery, delay_ms: int) -> None:
        async def requeue_later() -> None:
            await asyncio.sleep(delay_ms / 1000)
            state.messages.put_nowait(delivery)

        timer = asyncio.create_task(requeue_later())
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    def _dead_letter(self, state: _Queue, delivery: Delivery, reason: str) -> None:
        letter = DeadLetter(
            message_id=delivery.message_id,
            queue=state.name,
            reason=reason,
            attempts=delivery.attempt,
            dead_lettered_at=self._clock.now().astimezone(UTC),
            body=delivery.body,
        )
        state.dead.append(letter)
        count_dead_letter(state.name)
        log.error(
            "bus.message.dead_lettered",
            queue=state.name,
            message_id=delivery.message_id,
            attempts=delivery.attempt,
            reason=reason,
        )
