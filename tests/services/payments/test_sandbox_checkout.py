"""Checkout creation against the project's provider sandbox, served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
import uvicorn
from bwai_core.ids import new_id
from bwai_payments.providers import CheckoutOrder, build_adapters
from bwai_payments.settings import PaymentsSettings

sandbox_app = pytest.importorskip("bwai_sandbox.app", reason="provider sandbox not installed")
sandbox_settings = pytest.importorskip("bwai_sandbox.settings")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    port = free_port()
    settings = sandbox_settings.SandboxSettings(port=port)
    server = uvicorn.Server(
        uvicorn.Config(
            sandbox_app.create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        # uvicorn exposes only a `started` flag, no event to wait on.
        while not server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


def order() -> CheckoutOrder:
    return CheckoutOrder(new_id(), "t1", Decimal("49.99"), "USD", "Website", None, None)


async def test_sandbox_invoice_and_lookup(sandbox_url: str) -> None:
    settings = PaymentsSettings(
        environment="test",
        nowpayments_api_url=f"{sandbox_url}/nowpayments/v1",
        nowpayments_api_key="sandbox-nowpayments-api-key",
    )
    async with httpx.AsyncClient() as client:
        adapter = build_adapters(settings, client)["nowpayments"]
        payment_id = new_id()

        checkout = await adapter.create_checkout(order(), payment_id, "btc")
        found = await adapter.find_checkout_by_reference(str(payment_id))

    assert checkout.checkout_id
    assert checkout.checkout_url.startswith("http")
    assert found is not None
    assert found.checkout_id == checkout.checkout_id


async def test_sandbox_charge_and_lookup(sandbox_url: str) -> None:
    settings = PaymentsSettings(
        environment="test",
        coinbase_commerce_api_url=f"{sandbox_url}/coinbase",
        coinbase_commerce_api_key="sandbox-coinbase-api-key",
    )
    async with httpx.AsyncClient() as client:
        adapter = build_adapters(settings, client)["coinbase_commerce"]
        payment_id = new_id()

        checkout = await adapter.create_checkout(order(), payment_id, "btc")
        found = await adapter.find_checkout_by_reference(str(payment_id))

    assert checkout.checkout_id
    assert found is not None
    assert found.checkout_id == checkout.checkout_id
