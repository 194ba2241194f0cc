"""Pure ASGI middleware that binds request ids to the log context and logs one outcome line.

Pure ASGI rather than Starlette's BaseHTTPMiddleware: it adds no task per request and never
buffers a streamed body.
"""

from __future__ import annotations

import re
import secrets
import time

import structlog
from bwai_core.errors import ServiceError
from bwai_core.ids import new_id_str
from bwai_telemetry.http import finish_server_span, server_span
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bwai_web.metrics import observe_request
from bwai_web.problems import problem_response

log = structlog.get_logger()

# Client-supplied ids are echoed and logged, so only short visible-ASCII values are trusted.
_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
# W3C Trace Context: version-traceid-parentid-flags, all lower-case hex; all-zero ids are invalid.
_TRACEPARENT = re.compile(r"^00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def new_traceparent() -> str:
    """Return a W3C traceparent that starts a new sampled trace."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


class RequestContextMiddleware:
    """Bind request, correlation and trace ids for the request; log `http.request.completed`.

    The request id comes from `X-Request-Id` (generated when absent or invalid), the correlation
    id from `X-Correlation-Id` (the request id when absent), and both are echoed on the response.
    An unexpected exception becomes a 500 problem with no internals, logged with its traceback.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        request_id = _client_id(headers.get("x-request-id")) or new_id_str()
        correlation_id = _client_id(headers.get("x-correlation-id")) or request_id
        incoming_traceparent = _traceparent(headers.get("traceparent"))
        outcome = _Outcome(send, request_id, correlation_id)

        started = time.perf_counter()
        # With tracing on, the server span continues the caller's trace and its own context is
        # the one logged; without it, the caller's traceparent (or a new one) is.
        with server_span(self.service, scope["method"], incoming_traceparent) as span_traceparent:
            traceparent = span_traceparent or incoming_traceparent or new_traceparent()
            with structlog.contextvars.bound_contextvars(
                service=self.service,
                request_id=request_id,
                correlation_id=correlation_id,
                traceparent=traceparent,
                trace_id=traceparent[3:35],
            ):
                try:
                    await self.app(scope, receive, outcome.send)
                except Exception:
                    if outcome.started:
                        raise
                    log.exception("http.request.failed", method=scope["method"], path=scope["path"])
                    await problem_response(ServiceError())(scope, receive, outcome.send)
                finally:
                    self._log_completed(scope, outcome.status, time.perf_counter() - started)

    def _log_completed(self, scope: Scope, status: int, duration_s: float) -> None:
        route = _route_template(scope)
        observe_request(self.service, scope["method"], route, status, duration_s)
        finish_server_span(scope["method"], route, status)
        emit = log.debug if scope["path"] in _QUIET_PATHS else log.info
        emit(
            "http.request.completed",
            method=scope["method"],
            route=route,
            status=status,
            duration_ms=round(duration_s * 1000, 3),
        )


class _Outcome:
    """Send wrapper that records the status and adds the id headers to the response."""

    def __init__(self, send: Send, request_id: str, correlation_id: str) -> None:
        self._send = send
        self._ids = [
            (b"x-request-id", request_id.encode()),
            (b"x-correlation-id", correlation_id.encode()),
        ]
        # A request that ends before a response starts (cancelled, crashed) is logged as 500.
        self.status = 500
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            message = {**message, "headers": [*message.get("headers", ()), *self._ids]}
        await self._send(message)


def _client_id(value: str | None) -> str | None:
    return value if value is not None and _CLIENT_ID.match(value) else None


def _traceparent(value: str | None) -> str | None:
    return value if value is not None and _TRACEPARENT.match(value) else None


def _route_template(scope: Scope) -> str:
    # The template (`/v1/orders/{order_id}`), never the raw path, keeps metric labels bounded.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
