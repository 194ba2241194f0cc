"""Send mail over SMTP: Mailcow in production, the local mail sink in development and tests."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

import aiosmtplib
import structlog
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from bwai_mail.composition import compose, new_message_id
from bwai_mail.errors import SmtpSendFailed, SmtpTransientError
from bwai_mail.secrets import SecretReader, static_secret
from bwai_mail.smtp_failures import classify_failure

log = structlog.get_logger()

SmtpSecurity = Literal["starttls", "tls", "none"]

# Longest wait between two attempts; the first wait is `retry_backoff_s` and doubles from there.
MAX_RETRY_WAIT_S = 10.0


class SmtpSettings(BaseSettings):
    """Where and how to send mail, from BWAI_SMTP_* environment variables.

    The defaults point at the local mail sink. `security` is `starttls` (port 587), `tls`
    (implicit TLS, port 465) or `none`, which is allowed only towards a loopback host.
    """

    model_config = SettingsConfigDict(env_prefix="BWAI_SMTP_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=1, le=65535)
    security: SmtpSecurity = "none"
    # Without a username the sender does not authenticate, as the local sink expects.
    username: str | None = None
    password: SecretStr
    from_address: str = "Build With AI <no-reply@localhost>"
    timeout_s: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_s: float = Field(default=0.5, ge=0)

    @model_validator(mode="after")
    def _plaintext_only_to_loopback(self) -> SmtpSettings:
        if self.security == "none" and not _is_loopback(self.host):
            raise ValueError(
                f"BWAI_SMTP_SECURITY=none is only allowed for a loopback host, not {self.host!r}; "
                "use starttls or tls"
            )
        return self


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One message to one recipient; `html`, when given, is sent as an alternative to `text`."""

    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] | None = None


class SmtpSender:
    """Send mail through one SMTP server, retrying transient failures a bounded number of times."""

    def __init__(self, settings: SmtpSettings, *, password: SecretReader | None = None) -> None:
        self._settings = settings
        self._password = password or static_secret(settings.password)
        self._server = f"{settings.host}:{settings.port}"

    async def send(self, mail: OutgoingMail) -> str:
        """Send `mail` and return its Message-ID.

        Raises `OutgoingMailInvalid` before connecting when the mail cannot be composed,
        `SmtpPermanentError` at once on a 5xx reply, and `SmtpTransientError` when every attempt
        failed transiently. A retry after a connection lost during DATA may deliver the message
        twice; both copies carry the same Message-ID, so mail clients can tell them apart.
        """
        message_id = new_message_id(self._settings.from_address)
        message = compose(mail, from_address=self._settings.from_address, message_id=message_id)

        try:
            async for attempt in self._retrying():
                with attempt:
                    await self._deliver(message)
        except SmtpSendFailed as error:
            log.warning(
                "mail.smtp.send_failed",
                message_id=message_id,
                server=self._server,
                smtp_code=error.smtp_code,
                transient=error.transient,
                detail=error.detail,
            )
            raise

        log.info("mail.smtp.sent", message_id=message_id, server=self._server)
        return message_id

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self._settings.max_attempts),
            wait=wait_exponential(multiplier=self._settings.retry_backoff_s, max=MAX_RETRY_WAIT_S),
            retry=retry_if_exception_type(SmtpTransientError),
            before_sleep=self._log_retry,
            reraise=True,
        )

    async def _deliver(self, message: EmailMessage) -> None:
        settings = self._settings
        username = settings.username
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.port,
                username=username,
                password=self._password() if username else None,
                use_tls=settings.security == "tls",
                start_tls=settings.security == "starttls",
                timeout=settings.timeout_s,
            )
        except aiosmtplib.SMTPException as error:
            raise classify_failure(error, server=self._server) from error

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "mail.smtp.send_retrying",
            server=self._server,
            attempt=state.attempt_number,
            smtp_code=getattr(error, "smtp_code", None),
            detail=getattr(error, "detail", None),
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
