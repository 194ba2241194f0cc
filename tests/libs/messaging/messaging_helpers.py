"""Shared pieces of the messaging tests: a recording handler, bounded waits, a TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from bwai_core.clock import FrozenClock
from bwai_messaging.bus import Delivery
from bwai_messaging.envelope import Event, new_event

WIDGET_CREATED = "test.widget.created"
WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
GADGET_CREATED = "test.gadget.created"
GADGET_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"size": {"type": "integer"}}}


def widget_event(clock: FrozenClock, name: str = "sprocket", **kwargs: Any) -> Event:
    return new_event(
        WIDGET_CREATED, {"name": name}, source="/tests/messaging", clock=clock, **kwargs
    )


def gadget_event(clock: FrozenClock, size: int = 3) -> Event:
    return new_event(GADGET_CREATED, {"size": size}, source="/tests/messaging", clock=clock)


class Recorder:
    """A bus handler that records every delivery, then runs an optional behaviour."""

    def __init__(self, behaviour: Callable[[Delivery], Awaitable[None]] | None = None) -> None:
        self.deliveries: list[Delivery] = []
        self._behaviour = behaviour
        self._changed = asyncio.Event()

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self._changed.set()
        if self._behaviour is not None:
            await self._behaviour(delivery)

    @property
    def message_ids(self) -> list[str]:
        return [delivery.message_id for delivery in self.deliveries]

    def attempts_of(self, message_id: str) -> list[int]:
        return [d.attempt for d in self.deliveries if d.message_id == message_id]

    async def wait_for(self, predicate: Callable[[Recorder], bool], limit_s: float = 10) -> None:
        async with asyncio.timeout(limit_s):
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()

    async def wait_for_count(self, count: int, limit_s: float = 10) -> None:
        await self.wait_for(lambda recorder: len(recorder.deliveries) >= count, limit_s)

    async def wait_for_message(self, message_id: str, limit_s: float = 10) -> None:
        await self.wait_for(lambda recorder: message_id in recorder.message_ids, limit_s)


async def eventually(check: Callable[[], Awaitable[bool]], limit_s: float = 10) -> None:
    """Poll `check` every 20 ms until it returns True; fail after `limit_s` seconds.

    For state with no event to wait on, such as rows in a database or messages in a DLQ.
    """
    async with asyncio.timeout(limit_s):
        while not await check():  # noqa: ASYNC110 - the state lives outside this process
            await asyncio.sleep(0.02)


class TcpProxy:
    """A loopback TCP proxy whose open connections a test can cut, as a broker restart would."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def cut(self) -> None:
        """Close every proxied connection; new connections are still accepted."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for source, target in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(_pipe(source, target))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.close()
