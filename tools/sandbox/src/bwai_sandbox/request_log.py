"""ASGI middleware that records every request to a provider API in the sandbox state."""

from __future__ import annotations

from bwai_core.clock import Clock
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bwai_sandbox.models import Provider
from bwai_sandbox.state import SandboxState

_PREFIXES = {"/nowpayments/": Provider.NOWPAYMENTS, "/coinbase/": Provider.COINBASE}


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, *, state: SandboxState, clock: Clock) -> None:
        self.app = app
        self.state = state
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = _provider(scope)
        if provider is None:
            await self.app(scope, receive, send)
            return

        # Recorded before the handler runs, so a request held open by a fault is visible.
        record = self.state.record_request(
            provider,
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            self.clock.now(),
        )

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status_code = message["status"]
            await send(message)

        await self.app(scope, receive, send_and_record)


def _provider(scope: Scope) -> Provider | None:
    if scope["type"] != "http":
        return None
    path: str = scope["path"]
    for prefix, provider in _PREFIXES.items():
        if path.startswith(prefix):
            return provider
    return None
