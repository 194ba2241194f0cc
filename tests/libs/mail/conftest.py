"""Real servers on loopback: the mail sink for SMTP, and a fake Mailcow admin API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from bwai_mail.mailcow import MailcowClient
from bwai_mailsink import MailSink
from mailcow_fake import API_KEY, FakeMailcow, serve_fake_mailcow


@pytest.fixture
async def mail_sink() -> AsyncIterator[MailSink]:
    sink = MailSink("127.0.0.1", 0)
    await sink.start()
    yield sink
    await sink.stop()


@pytest.fixture
async def fake_mailcow() -> AsyncIterator[FakeMailcow]:
    async with serve_fake_mailcow() as fake:
        yield fake


@pytest.fixture
async def mailcow(fake_mailcow: FakeMailcow) -> AsyncIterator[MailcowClient]:
    client = MailcowClient(fake_mailcow.url, lambda: API_KEY, max_attempts=3, retry_backoff_s=0)
    async with client:
        yield client
