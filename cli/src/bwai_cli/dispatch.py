"""One port for every service in the embedded platform: requests go by path prefix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from bwai_telemetry.metrics import render_metrics

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
ReadyCheck = Callable[[], Awaitable[dict[str, Any]]]


class PrefixDispatcher:
    """Route each request to the service whose prefix matches; answer health checks itself.

    `/healthz` is the process being alive; `/readyz` is every service ready (database, bus and
    consumers), so a load balancer sees the platform as one unit. `/metrics` serves the one
    Prometheus registry that every service of the process shares, labelled by service.
    """

    def __init__(self, routes: Sequence[tuple[str, ASGIApp]], ready: ReadyCheck) -> None:
        # Longest prefix first, so `/v1/admin/payments` wins over a shorter overlapping one.
        self._routes = sorted(routes, key=lambda route: len(route[0]), reverse=True)
        self._ready = ready

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path in ("/healthz", "/readyz"):
            await self._health(path, send)
            return
        if scope["type"] == "http" and path == "/metrics":
            await _metrics(send)
            return
        for prefix, app in self._routes:
            if not prefix or path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                await app(scope, receive, send)
                return
        if scope["type"] == "http":
            problem = {
                "type": "https://errors.buildwithai.dev/not-found",
                "title": "Not found",
                "status": 404,
                "detail": f"no route for {path}",
            }
            await _json(send, 404, problem, media_type=b"application/problem+json")

    async def _health(self, path: str, send: Any) -> None:
        if path == "/healthz":
            await _json(send, 200, {"status": "ok"})
            return
        report = await self._ready()
        await _json(send, 200 if report["ready"] else 503, report)


async def _lifespan(receive: Any, send: Any) -> None:
    # Services start before the server does, so the server's lifespan has nothing to do.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _metrics(send: Any) -> None:
    payload, media_type = render_metrics()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _json(
    send: Any, status: int, body: dict[str, Any], media_type: bytes = b"application/json"
) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
