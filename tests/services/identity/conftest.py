"""Fixtures for identity: a migrated database, an active signing key and the HTTP app."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from bwai_core.clock import FrozenClock
from bwai_core.db import apply_migrations, create_pool
from bwai_identity.definition import SERVICE
from bwai_identity.keys.service import ensure_active_key, load_jwks
from bwai_identity.mail.sender import MAILER_EXTRA
from bwai_identity.settings import IdentitySettings
from bwai_mail.smtp import SmtpSender, SmtpSettings
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_messaging.schemas import SchemaRegistry
from bwai_web.auth import JWKSCache, TokenVerifier
from bwai_web.service import ServiceContext

sys.path.insert(0, str(Path(__file__).parents[2] / "libs" / "web"))
from web_support import make_context


@pytest.fixture
async def identity_pool(
    fresh_database: Callable[[str], Awaitable[str]],
) -> AsyncIterator[asyncpg.Pool]:
    dsn = await fresh_database("identity")
    pool = await create_pool(dsn)
    await apply_migrations(pool, [MESSAGING_MIGRATIONS, *SERVICE.migrations])
    yield pool
    await pool.close()


class MailSink:
    """An aiosmtpd handler that keeps every received message, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.received = asyncio.Event()

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.content)  # type: ignore[arg-type]
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.received.set()
        return "250 OK"

    def bodies(self, to: str) -> list[tuple[str, str]]:
        """Return (text, html) of each message sent to `to`, oldest first."""
        found = []
        for message in self.messages:
            if message["To"] != to:
                continue
            text = message.get_body(("plain",))
            html = message.get_body(("html",))
            found.append((text.get_content() if text else "", html.get_content() if html else ""))
        return found


@pytest.fixture
def mail_sink() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def identity_ctx(
    identity_pool: asyncpg.Pool, clock: FrozenClock, mail_sink: tuple[MailSink, int]
) -> AsyncIterator[ServiceContext]:
    settings = IdentitySettings(environment="test")
    await ensure_active_key(identity_pool, clock)

    async def fetch() -> dict[str, object]:
        return await load_jwks(identity_pool, clock=clock)

    verifier = TokenVerifier(
        JWKSCache(fetch), issuer=settings.jwt_issuer, audience=settings.jwt_audience, clock=clock
    )
    ctx = make_context(
        pool=identity_pool,
        clock=clock,
        verifier=verifier,
        settings=settings,
        schemas=SchemaRegistry.default(),
        name="identity",
    )
    smtp = SmtpSettings(host="127.0.0.1", port=mail_sink[1], password="", max_attempts=1)  # type: ignore[arg-type]
    ctx.extras[MAILER_EXTRA] = SmtpSender(smtp)
    await ctx.bus.connect()
    yield ctx
    await ctx.bus.close()


@pytest.fixture
async def identity_client(identity_ctx: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    app = SERVICE.create_app(identity_ctx)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
