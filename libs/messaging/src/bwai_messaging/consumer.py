"""The inbox side: apply each event once, in one transaction with the inbox row that records it.

The inbox row is inserted first in the handler's transaction. A redelivery, or a second replica
racing on the same event, blocks on that row until the first transaction ends, then finds it and
acks without running the handler. A failed handler rolls the row back with its effect, so the
retry runs the handler again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import cast

import asyncpg
import structlog
from bwai_telemetry.messaging import consume_span, count_invalid_event

from bwai_messaging.bus import Delivery, describe_error
from bwai_messaging.envelope import Event, traceparent_bound
from bwai_messaging.errors import InvalidEvent, RejectEvent
from bwai_messaging.schemas import SchemaRegistry

log = structlog.get_logger()

EventHandler = Callable[[asyncpg.Connection, Event], Awaitable[None]]

# One round trip claims the event and clears any failure record of earlier attempts. A rollback
# undoes both together with the handler's effect.
_CLAIM = """
WITH cleared AS (
    DELETE FROM inbox_failures WHERE consumer = $1 AND event_id = $2
)
INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)
ON CONFLICT (consumer, event_id) DO NOTHING
RETURNING true
"""
_RECORD_FAILURE = """
INSERT INTO inbox_failures (consumer, event_id, queue, event_type, attempts, last_error)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (consumer, event_id) DO UPDATE
SET attempts = excluded.attempts, last_error = excluded.last_error, updated_at = now()
"""
# The stored error is for recognising a failure; the full text is in the log line.
MAX_ERROR_CHARS = 2000


class EventConsumer:
    """A bus handler that validates, deduplicates and applies events of one service's queue.

    How this call exits decides the message's fate on the bus: return -> ack (applied or
    duplicate), InvalidEvent or RejectEvent -> dead-letter now, other exceptions -> retry.
    """

    def __init__(
        self,
        service: str,
        pool: asyncpg.Pool,
        schemas: SchemaRegistry,
        handlers: Mapping[str, EventHandler],
        *,
        queue: str | None = None,
    ) -> None:
        self._service = service
        self._queue = queue or service
        self._pool = pool
        self._schemas = schemas
        self._handlers = dict(handlers)

    @property
    def event_types(self) -> list[str]:
        """The routing keys to bind the queue to: one per handled event type."""
        return list(self._handlers)

    async def __call__(self, delivery: Delivery) -> None:
        event = self._parse(delivery)
        context = {
            "event_id": event.id,
            "event_type": event.type,
            "correlation_id": event.correlationid,
            "attempt": delivery.attempt,
        }
        with (
            structlog.contextvars.bound_contextvars(**context),
            traceparent_bound(event.traceparent),
            consume_span(self._service, self._queue, event, delivery.headers),
        ):
            await self._consume(event, delivery)

    def _parse(self, delivery: Delivery) -> Event:
        try:
            event = Event.from_bytes(delivery.body)
            self._schemas.validate(event)
        except InvalidEvent as error:
            count_invalid_event(self._service)
            log.warning(
                "event.consume.invalid", message_id=delivery.message_id, reason=error.reason
            )
            raise
        return event

    async def _consume(self, event: Event, delivery: Delivery) -> None:
        started = time.perf_counter()
        try:
            applied = await self._apply(event)
        except (RejectEvent, InvalidEvent) as error:
            log.warning("event.consume.rejected", reason=error.reason)
            raise
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self._record_failure(event, delivery, error)
            log.warning("event.consume.failed", error=describe_error(error), exc_info=True)
            raise
        log.info(
            "event.consumed",
            outcome="applied" if applied else "duplicate",
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    async def _apply(self, event: Event) -> bool:
        """Run the handler in one transaction with the inbox row; False for a duplicate."""
        handler = self._handlers.get(event.type)
        if handler is None:
            raise RejectEvent(f"{self._service} has no handler for event type {event.type!r}")
        async with self._pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetchval(_CLAIM, self._service, event.id)
            if not claimed:
                return False
            await handler(cast(asyncpg.Connection, conn), event)
        return True

    async def _record_failure(self, event: Event, delivery: Delivery, error: Exception) -> None:
        # Its own short transaction: the handler's transaction has rolled back.
        try:
            await self._pool.execute(
                _RECORD_FAILURE,
                self._service,
                event.id,
                self._queue,
                event.type,
                delivery.attempt,
                describe_error(error)[:MAX_ERROR_CHARS],
            )
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as record_error:
            log.warning("event.failure_record.failed", error=describe_error(record_error))
