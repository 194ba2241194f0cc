"""The SMTP side of the mail sink: an aiosmtpd server on the running event loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from bwai_mailsink.parsing import parse_message
from bwai_mailsink.store import DEFAULT_MAX_MESSAGES, MessageStore

log = structlog.get_logger()


class MailSink:
    """An SMTP server that accepts every message and keeps it in `store`.

    It runs on the caller's event loop, so tests and the web app read the store without locks.
    Pass `smtp_port=0` to bind a free port; `smtp_port` holds the bound port after `start()`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        smtp_port: int = 8025,
        *,
        max_messages: int = DEFAULT_MAX_MESSAGES,
    ) -> None:
        self.host = host
        self.smtp_port = smtp_port
        self.store = MessageStore(max_messages)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        handler = _StoringHandler(self.store)
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="mailsink.localhost"), self.host, self.smtp_port
        )
        self.smtp_port = self._server.sockets[0].getsockname()[1]
        log.info("mailsink.smtp.started", host=self.host, port=self.smtp_port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        log.info("mailsink.smtp.stopped", host=self.host, port=self.smtp_port)


class _StoringHandler:
    """aiosmtpd handler: every message is accepted, parsed and stored."""

    def __init__(self, store: MessageStore) -> None:
        self._store = store

    # aiosmtpd looks the hook up by this exact name.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = parse_message(
            raw,
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            received_at=datetime.now(UTC),
        )
        await self._store.add(message)
        log.info("mailsink.message.received", message_id=message.id, size_bytes=len(raw))
        return "250 Message accepted for delivery"
