"""Fixtures for the sandbox tests; the helpers live in sandbox_helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from bwai_sandbox import create_app
from sandbox_helpers import Receiver, receiver_app, sandbox_settings, serve


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver(url="")
    async with serve(receiver_app(receiver)) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
async def sandbox(receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for a sandbox served by uvicorn, webhooks aimed at `receiver`."""
    app = create_app(sandbox_settings(receiver.url))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=5.0) as client:
        yield client
