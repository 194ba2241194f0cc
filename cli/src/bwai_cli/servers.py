"""uvicorn servers that leave signal handling to the process that hosts several of them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from typing import Any

import uvicorn


class QuietSignalServer(uvicorn.Server):
    """A uvicorn server that stops when told to, not on its own signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def make_server(app: Any, host: str, port: int, *, access_log: bool = False) -> QuietSignalServer:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="none",  # the caller already runs the loop (uvloop where available)
        http="httptools",
        lifespan="off",
        log_config=None,
        access_log=access_log,
        server_header=False,
        timeout_graceful_shutdown=5,
        backlog=2048,
    )
    return QuietSignalServer(config)


async def wait_started(
    server: uvicorn.Server, task: asyncio.Task[None], timeout_s: float = 15
) -> None:
    """Wait until `server` listens, or raise what stopped it."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped before it started listening")
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("server did not start listening in time")
        await asyncio.sleep(0.02)
