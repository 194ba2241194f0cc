"""SmtpSender against real aiosmtpd servers: the mail sink, and handlers that reject."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import structlog
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from bwai_mail import (
    OutgoingMail,
    OutgoingMailInvalid,
    SmtpPermanentError,
    SmtpSender,
    SmtpSettings,
    SmtpTransientError,
)
from bwai_mailsink import MailSink
from pydantic import SecretStr, ValidationError

PASSWORD = "s3cret-smtp-pw"


def _settings(port: int, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "password": SecretStr(PASSWORD),
        "from_address": "Build With AI <no-reply@bwai.test>",
        "retry_backoff_s": 0,
        "max_attempts": 3,
    }
    values.update(overrides)
    return SmtpSettings.model_validate(values)


class _RejectingHandler:
    """Replies `reply` to every RCPT and counts the attempts."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.attempts = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.attempts += 1
        return self.reply


StartRejecting = Callable[[str], Awaitable[tuple[_RejectingHandler, int]]]


async def _serve(handler: object, **smtp_options: Any) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **smtp_options), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def rejecting() -> AsyncIterator[StartRejecting]:
    servers: list[asyncio.Server] = []

    async def start(reply: str) -> tuple[_RejectingHandler, int]:
        handler = _RejectingHandler(reply)
        server, port = await _serve(handler)
        servers.append(server)
        return handler, port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_send_plain_text_arrives(mail_sink: MailSink) -> None:
    sender = SmtpSender(_settings(mail_sink.smtp_port))

    message_id = await sender.send(
        OutgoingMail(to="ana@shop.example", subject="Verify your email", text="Code: 123456")
    )

    [received] = mail_sink.store.list()
    assert received.message_id == message_id
    assert message_id.endswith("@bwai.test>")
    assert received.rcpt_tos == ("ana@shop.example",)
    assert received.mail_from == "no-reply@bwai.test"
    assert received.subject == "Verify your email"
    assert received.text == "Code: 123456\n"
    assert received.html is None


async def test_send_with_html_is_multipart_alternative(mail_sink: MailSink) -> None:
    sender = SmtpSender(_settings(mail_sink.smtp_port))
    mail = OutgoingMail(
        to="Ana <ana@shop.example>",
        subject="Welcome",
        text="Hello Ana",
        html="<p>Hello <b>Ana</b></p>",
        headers={"X-Bwai-Purpose": "email-verification"},
    )

    await sender.send(mail)

    [received] = mail_sink.store.list()
    headers = dict(received.headers)
    assert headers["Content-Type"].startswith("multipart/alternative")
    assert headers["X-Bwai-Purpose"] == "email-verification"
    assert received.text == "Hello Ana\n"
    assert received.html == "<p>Hello <b>Ana</b></p>\n"


async def test_4xx_reply_retried_then_transient(rejecting: StartRejecting) -> None:
    handler, port = await rejecting("451 4.3.0 Try again later")
    sender = SmtpSender(_settings(port, max_attempts=3))

    with pytest.raises(SmtpTransientError) as raised:
        await sender.send(OutgoingMail(to="ana@shop.example", subject="s", text="t"))

    assert raised.value.smtp_code == 451
    assert handler.attempts == 3


async def test_5xx_reply_is_permanent_without_retry(rejecting: StartRejecting) -> None:
    handler, port = await rejecting("550 5.1.1 No such user")
    sender = SmtpSender(_settings(port, max_attempts=3))

    with pytest.raises(SmtpPermanentError) as raised:
        await sender.send(OutgoingMail(to="nobody@shop.example", subject="s", text="t"))

    assert raised.value.smtp_code == 550
    assert "No such user" in raised.value.detail
    assert handler.attempts == 1


async def test_refused_connection_is_transient() -> None:
    sender = SmtpSender(_settings(_free_port(), max_attempts=2))

    with pytest.raises(SmtpTransientError) as raised:
        await sender.send(OutgoingMail(to="ana@shop.example", subject="s", text="t"))

    assert raised.value.smtp_code is None


async def test_rejected_login_is_permanent_and_password_not_logged() -> None:
    logins: list[tuple[str, str]] = []

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=False, handled=False)

    server, port = await _serve(
        _RejectingHandler("250 OK"), authenticator=authenticate, auth_require_tls=False
    )
    sender = SmtpSender(_settings(port, username="mailer@bwai.test"))

    try:
        with structlog.testing.capture_logs() as logs, pytest.raises(SmtpPermanentError) as raised:
            await sender.send(OutgoingMail(to="ana@shop.example", subject="s", text="t"))
    finally:
        server.close()
        await server.wait_closed()

    assert raised.value.smtp_code == 535
    # aiosmtplib tries each mechanism the server offers (PLAIN, LOGIN) on one connection.
    assert set(logins) == {("mailer@bwai.test", PASSWORD)}
    assert PASSWORD not in repr(logs)
    assert PASSWORD not in str(raised.value)


async def test_password_read_through_reader_each_send(mail_sink: MailSink) -> None:
    reads: list[int] = []

    def read_password() -> str:
        reads.append(1)
        return "rotated"

    sender = SmtpSender(_settings(mail_sink.smtp_port), password=read_password)

    await sender.send(OutgoingMail(to="ana@shop.example", subject="s", text="t"))

    # Without a username the sender does not authenticate, so it never needs the password.
    assert reads == []


@pytest.mark.parametrize(
    ("mail", "reason"),
    [
        (OutgoingMail(to="not-an-address", subject="s", text="t"), "recipient"),
        (OutgoingMail(to="a@b.example\r\nBcc: x@y.example", subject="s", text="t"), "recipient"),
        (OutgoingMail(to="a@b.example", subject="s\r\nBcc: x@y.example", text="t"), "header"),
        (OutgoingMail(to="a@b.example", subject="s", text="t", headers={"From": "x@y"}), "From"),
        (
            OutgoingMail(to="a@b.example", subject="s", text="t", headers={"X-A": "1\nB: 2"}),
            "header",
        ),
    ],
)
async def test_invalid_mail_rejected_before_sending(
    mail_sink: MailSink, mail: OutgoingMail, reason: str
) -> None:
    sender = SmtpSender(_settings(mail_sink.smtp_port))

    with pytest.raises(OutgoingMailInvalid) as raised:
        await sender.send(mail)

    assert reason in raised.value.detail
    assert mail_sink.store.list() == []


def test_settings_reject_plaintext_to_remote_host() -> None:
    with pytest.raises(ValidationError, match="loopback"):
        SmtpSettings(host="mail.example.com", security="none", password=SecretStr("x"))


def test_settings_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BWAI_SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("BWAI_SMTP_PORT", "465")
    monkeypatch.setenv("BWAI_SMTP_SECURITY", "tls")
    monkeypatch.setenv("BWAI_SMTP_USERNAME", "mailer@example.com")
    monkeypatch.setenv("BWAI_SMTP_PASSWORD", PASSWORD)

    settings = SmtpSettings()  # type: ignore[call-arg]

    assert settings.port == 465
    assert settings.security == "tls"
    assert settings.password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(settings)


def test_settings_require_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BWAI_SMTP_PASSWORD", raising=False)

    with pytest.raises(ValidationError, match="password"):
        SmtpSettings()  # type: ignore[call-arg]
