"""Helpers for the sandbox tests: real uvicorn servers on free loopback ports.

`Receiver` is a small FastAPI app that keeps every webhook it gets, headers and raw bytes.
`sandbox_settings` points the sandbox's Coinbase webhook URL at it and shortens retry delays.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from bwai_sandbox import SandboxSettings
from fastapi import FastAPI, Request, Response

NOWPAYMENTS_KEY = "test-np-key"
NOWPAYMENTS_SECRET = "test-np-ipn-secret"
COINBASE_KEY = "test-cb-key"
COINBASE_SECRET = "test-cb-webhook-secret"
NP_HEADERS = {"x-api-key": NOWPAYMENTS_KEY}
CB_HEADERS = {"X-CC-Api-Key": COINBASE_KEY, "X-CC-Version": "2018-03-22"}
WAIT_SECONDS = 10.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Status codes to return, in order. Once they are used up the receiver returns 200.
    statuses: list[int] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for(self, count: int, path: str | None = None) -> list[Received]:
        """Wait until `count` webhooks (on `path`, if given) arrived; fail after a bound."""

        def matching() -> list[Received]:
            return [r for r in self.received if path is None or r.path == path]

        async with asyncio.timeout(WAIT_SECONDS), self._arrived:
            await self._arrived.wait_for(lambda: len(matching()) >= count)
        return matching()


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Run `app` on a free 127.0.0.1 port and yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            # uvicorn exposes only a `started` flag, so poll it within the bound.
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def receiver_app(receiver: Receiver) -> FastAPI:
    app = FastAPI()

    @app.post("/{path:path}")
    async def take(request: Request, path: str) -> Response:
        body = await request.body()
        async with receiver._arrived:
            receiver.received.append(Received("/" + path, dict(request.headers), body))
            receiver._arrived.notify_all()
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        return Response(status_code=status)

    return app


def sandbox_settings(receiver_url: str | None = None, **overrides: Any) -> SandboxSettings:
    values: dict[str, Any] = {
        "nowpayments_api_key": NOWPAYMENTS_KEY,
        "nowpayments_ipn_secret": NOWPAYMENTS_SECRET,
        "coinbase_api_key": COINBASE_KEY,
        "coinbase_webhook_secret": COINBASE_SECRET,
        "coinbase_webhook_url": f"{receiver_url}/coinbase" if receiver_url else None,
        "public_url": "http://127.0.0.1:8090",
        "webhook_retry_initial_ms": 10,
        "webhook_retry_max_ms": 50,
        "webhook_max_attempts": 3,
        "webhook_timeout_seconds": 2.0,
    }
    return SandboxSettings(**(values | overrides))


async def create_invoice(client: httpx.AsyncClient, receiver: Receiver, **fields: Any) -> str:
    body = {
        "price_amount": 3999.5,
        "price_currency": "usd",
        "order_id": "ORD-1",
        "order_description": "Order #1",
        "ipn_callback_url": f"{receiver.url}/nowpayments",
        "success_url": "http://127.0.0.1:8000/ok",
        "cancel_url": "http://127.0.0.1:8000/cancel",
    } | fields
    response = await client.post("/nowpayments/v1/invoice", json=body, headers=NP_HEADERS)
    assert response.status_code == 201, response.text
    invoice_id: str = response.json()["id"]
    return invoice_id


async def create_charge(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Order ORD-2",
        "description": "1 x Test item",
        "pricing_type": "fixed_price",
        "local_price": {"amount": "100.00", "currency": "USD"},
        "metadata": {"order_id": "ORD-2"},
        "redirect_url": "http://127.0.0.1:8000/ok",
        "cancel_url": "http://127.0.0.1:8000/cancel",
    } | fields
    response = await client.post("/coinbase/charges", json=body, headers=CB_HEADERS)
    assert response.status_code == 201, response.text
    charge: dict[str, Any] = response.json()["data"]
    return charge
