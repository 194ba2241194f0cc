"""Pure ASGI request body limit: 413 problem+json on a large Content-Length or streamed body.

The limit is looked up when the app first reads the body, which happens after routing, so a
route template can have its own limit (a webhook endpoint may accept more than an API call).
Nothing is read past the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so FastAPI's body parsing passes it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the limit of {limit} bytes")


class BodyLimitMiddleware:
    """Reject request bodies above `max_bytes`, or above the route's entry in `route_limits`."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, route_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = dict(route_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, _LimitedReceive(self, scope, receive), send)

    def limit_for(self, scope: Scope) -> int:
        template = getattr(scope.get("route"), "path", None)
        return self.route_limits.get(template, self.max_bytes) if template else self.max_bytes


class _LimitedReceive:
    def __init__(self, owner: BodyLimitMiddleware, scope: Scope, receive: Receive) -> None:
        self._owner = owner
        self._scope = scope
        self._receive = receive
        self._limit: int | None = None
        self._received = 0

    async def __call__(self) -> Message:
        if self._limit is None:
            self._limit = self._owner.limit_for(self._scope)
            declared = _content_length(self._scope)
            if declared is not None and declared > self._limit:
                raise BodyTooLarge(self._limit)

        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit:
                raise BodyTooLarge(self._limit)
        return message


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value)
