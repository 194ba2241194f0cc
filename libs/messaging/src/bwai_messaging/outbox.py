"""The transactional outbox: events are stored with the state change, then relayed to the bus.

`enqueue` writes events in the caller's transaction. `OutboxRelay` publishes them: it wakes on
`NOTIFY outbox` as soon as a writer commits and also polls, in case a notification was missed
while its listening connection was down. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so
several relay replicas share the table without publishing a row twice, and a row is deleted only
in the transaction that received the broker's confirm for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from bwai_contracts.topology import consumers_of
from bwai_telemetry.messaging import publish_span
from bwai_telemetry.metrics import observe_outbox

from bwai_messaging.bus import Bus, describe_error
from bwai_messaging.envelope import Event
from bwai_messaging.errors import Unroutable
from bwai_messaging.schemas import SchemaRegistry

log = structlog.get_logger()

# A plain connection or one borrowed from a pool; both run the same statements.
Connection = asyncpg.Connection | PoolConnectionProxy

NOTIFY_CHANNEL = "outbox"
# Ceiling of the back-off for a row whose publish failed (doubling from 1 s per attempt). Kept
# short so that events held during a broker outage go out soon after it ends.
MAX_RETRY_DELAY_S = 10

# One round trip: the CTE inserts every row, and the notification is sent only when the
# caller's transaction commits (PostgreSQL folds repeated identical notifications into one).
# NOTE: PostgreSQL serialises the commits of notifying transactions on one database-wide lock.
# This has not been measured under load; if it shows, notify only when the relay is idle.
_INSERT = """
WITH inserted AS (
    INSERT INTO outbox (id, event_type, payload)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])
)
SELECT pg_notify('outbox', '')
"""
_CLAIM = """
SELECT id, event_type, payload FROM outbox
WHERE available_at <= now()
ORDER BY available_at, id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_DELETE = "DELETE FROM outbox WHERE id = ANY($1::uuid[])"
_POSTPONE = """
UPDATE outbox
SET attempts = attempts + 1,
    last_error = failed.error,
    available_at = now() + least(power(2, attempts), $3) * interval '1 second'
FROM unnest($1::uuid[], $2::text[]) AS failed(id, error)
WHERE outbox.id = failed.id
"""
_BACKLOG = "SELECT count(*) FROM outbox"
_OLDEST_AGE = "SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM outbox"
# How often, in seconds, the relay measures its backlog for the metrics.
BACKLOG_REPORT_INTERVAL_S = 5.0
# The count stops here, so measuring a huge backlog stays one cheap query.
BACKLOG_COUNT_CAP = 100_000
# Both through indexes: the capped count, and the oldest row by its UUIDv7 id (time-ordered).
_BACKLOG_STATS = """
SELECT (SELECT count(*) FROM (SELECT 1 FROM outbox LIMIT $1) AS capped) AS backlog,
       coalesce(extract(epoch FROM now() - (SELECT created_at FROM outbox ORDER BY id LIMIT 1)),
                0)::float8 AS oldest_age_s
"""


def _unconsumed(row: asyncpg.Record, result: BaseException | None) -> bool:
    """Tell whether a publish was returned only because no service consumes its type yet.

    Such an event has no reader to lose it, so it counts as delivered; holding it would grow
    the outbox forever. A type with a declared consumer stays held until that queue exists.
    """
    if not isinstance(result, Unroutable) or consumers_of(row["event_type"]):
        return False
    log.debug("outbox.event.unconsumed", event_id=str(row["id"]), event_type=row["event_type"])
    return True


# The same insert as a data-modifying CTE of the caller's statement (see `enqueue_sql`).
# pg_notify runs once per inserted row, and PostgreSQL folds those into one notification.
_INSERT_CTE = """
INSERT INTO outbox (id, event_type, payload)
SELECT * FROM unnest(${ids}::uuid[], ${types}::text[], ${payloads}::bytea[])
WHERE {only_if}
RETURNING pg_notify('outbox', '')
"""


async def enqueue(conn: Connection, *events: Event, schemas: SchemaRegistry) -> None:
    """Validate the events and add them to the outbox in the caller's transaction.

    Raises InvalidEvent before writing anything when any event breaks its schema.
    """
    if not events:
        return
    await conn.execute(_INSERT, *_rows(events, schemas))


def enqueue_sql(
    *events: Event, schemas: SchemaRegistry, first_parameter: int, only_if: str = "true"
) -> tuple[str, list[Any]]:
    """Return an INSERT for a WITH clause that adds the events to the outbox, and its arguments.

    Lets a writer add its events in its own statement, which is atomic without an explicit
    transaction: `WITH ..., outbox_rows AS (<sql>) SELECT ...`. Like `enqueue`, the rows are
    written with `NOTIFY outbox`, sent when the statement's transaction commits. The SQL uses
    the parameters `$first_parameter` to `$first_parameter + 2`, and inserts nothing unless the
    SQL condition `only_if` is true (it may name the statement's other CTEs). Raises InvalidEvent
    when any event breaks its schema.
    """
    sql = _INSERT_CTE.format(
        ids=first_parameter,
        types=first_parameter + 1,
        payloads=first_parameter + 2,
        only_if=only_if,
    )
    return sql, _rows(events, schemas)


def _rows(events: tuple[Event, ...], schemas: SchemaRegistry) -> list[Any]:
    # Validated first, so an invalid event stops the write before anything is sent.
    for event in events:
        schemas.validate(event)
    return [
        [event.id for event in events],
        [event.type for event in events],
        [event.to_bytes() for event in events],
    ]


class OutboxRelay:
    """Publishes outbox rows to the bus; safe to run in any number of replicas at once."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: Bus,
        *,
        batch_size: int = 200,
        poll_interval_s: float = 1.0,
        service: str = "unknown",
    ) -> None:
        self._pool = pool
        # Labels the backlog metrics; the embedded platform runs one relay per service.
        self._service = service
        self._backlog_reported_at = float("-inf")
        self._bus = bus
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self._listener: PoolConnectionProxy | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start relaying in a background task; the first batch goes out without waiting."""
        if self._task is not None:
            return
        await self._listen()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        log.info("outbox.relay.started", batch_size=self._batch_size)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._unlisten()
        log.info("outbox.relay.stopped")

    async def backlog(self) -> int:
        """Return how many events wait in the outbox, including ones backing off after a failure."""
        count: int = await self._pool.fetchval(_BACKLOG)
        return count

    async def oldest_age_seconds(self) -> float:
        """Return the age of the oldest waiting event in seconds, 0 when the outbox is empty."""
        age: float = await self._pool.fetchval(_OLDEST_AGE)
        return age

    async def relay_once(self) -> int:
        """Publish one batch and return how many rows it claimed (published or postponed)."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self._batch_size)
            if not rows:
                return 0
            # Confirms are awaited together: a batch costs about one broker round trip.
            results = await asyncio.gather(
                *(self._publish(row["payload"]) for row in rows), return_exceptions=True
            )
            published = [
                row["id"]
                for row, result in zip(rows, results, strict=True)
                if result is None or _unconsumed(row, result)
            ]
            failed = [
                (row["id"], result)
                for row, result in zip(rows, results, strict=True)
                if isinstance(result, BaseException) and not _unconsumed(row, result)
            ]
            if published:
                await conn.execute(_DELETE, published)
            if failed:
                await self._postpone(conn, failed)
        return len(rows)

    async def _publish(self, payload: bytes) -> None:
        with publish_span(Event.from_bytes(payload), service=self._service) as event:
            await self._bus.publish(event)

    async def _postpone(self, conn: Connection, failed: list[tuple[Any, BaseException]]) -> None:
        for row_id, error in failed:
            if isinstance(error, asyncio.CancelledError):
                raise error
            log.warning("outbox.publish.failed", event_id=str(row_id), error=describe_error(error))
        await conn.execute(
            _POSTPONE,
            [row_id for row_id, _ in failed],
            [describe_error(error) for _, error in failed],
            MAX_RETRY_DELAY_S,
        )

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._drain()
                await self._listen()
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                log.warning("outbox.relay.failed", error=describe_error(error))
            await self._report_backlog()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval_s)

    async def _report_backlog(self) -> None:
        """Update the backlog gauges, at most once per BACKLOG_REPORT_INTERVAL_S."""
        now = time.monotonic()
        if now - self._backlog_reported_at < BACKLOG_REPORT_INTERVAL_S:
            return
        self._backlog_reported_at = now
        try:
            row = await self._pool.fetchrow(_BACKLOG_STATS, BACKLOG_COUNT_CAP)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            log.warning("outbox.backlog.check_failed", error=describe_error(error))
            return
        assert row is not None
        observe_outbox(self._service, row["backlog"], row["oldest_age_s"], time.time())

    async def _drain(self) -> None:
        # A full batch suggests more rows are waiting, so keep going without waiting.
        while await self.relay_once() == self._batch_size:
            pass

    async def _listen(self) -> None:
        """Hold one pool connection that LISTENs, replacing it when it has died."""
        if self._listener is not None and not self._listener.is_closed():
            return
        await self._unlisten()
        connection = await self._pool.acquire()
        try:
            await connection.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except BaseException:
            await self._pool.release(connection)
            raise
        self._listener = connection

    async def _unlisten(self) -> None:
        connection, self._listener = self._listener, None
        if connection is None:
            return
        with contextlib.suppress(asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
            if not connection.is_closed():
                await connection.remove_listener(NOTIFY_CHANNEL, self._on_notify)
        await self._pool.release(connection)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()
