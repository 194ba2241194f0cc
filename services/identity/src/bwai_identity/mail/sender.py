"""How identity reaches SMTP: one sender per service, kept in `ctx.extras["mailer"]`."""

from __future__ import annotations

import os
from typing import Protocol

import structlog
from bwai_core.secrets import SecretValues, SecretWatcher, secret_store_from_settings
from bwai_mail.errors import MailError
from bwai_mail.smtp import OutgoingMail, SmtpSender, SmtpSettings
from bwai_web.service import ServiceContext
from pydantic import SecretStr

log = structlog.get_logger()

MAILER_EXTRA = "mailer"


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> str: ...


SMTP_PASSWORD = "smtp_password"  # noqa: S105 - the secret's name in the store, not its value
WATCHER_EXTRA = "smtp_password_watcher"


async def start_mailer(ctx: ServiceContext) -> None:
    """Put an SMTP sender in `ctx.extras` unless the host provided one.

    Host, port and TLS come from BWAI_SMTP_* variables (defaults: the local mail sink). The
    password is read through the service's secret store (BWAI_SECRETS_BACKEND) and watched, so
    a rotated password is used from the next message on without a restart. The sink takes no
    password, so an unset one means an empty one.
    """
    if MAILER_EXTRA in ctx.extras:
        return
    current = {SMTP_PASSWORD: os.environ.get("BWAI_SMTP_PASSWORD", "")}
    configured = {SMTP_PASSWORD: current[SMTP_PASSWORD]} if current[SMTP_PASSWORD] else None
    store = secret_store_from_settings(ctx.settings, configured=configured, client=ctx.http)

    def remember(values: SecretValues) -> None:
        current[SMTP_PASSWORD] = values.get(SMTP_PASSWORD) or ""

    watcher = SecretWatcher(
        store,
        [SMTP_PASSWORD],
        on_change=remember,
        interval_s=ctx.settings.secrets_cache_ttl_seconds,
    )
    await watcher.start()
    ctx.extras[WATCHER_EXTRA] = watcher
    settings = SmtpSettings(password=SecretStr(""))
    ctx.extras[MAILER_EXTRA] = SmtpSender(settings, password=lambda: current[SMTP_PASSWORD])


async def stop_mailer(ctx: ServiceContext) -> None:
    watcher = ctx.extras.pop(WATCHER_EXTRA, None)
    if isinstance(watcher, SecretWatcher):
        await watcher.stop()


def context_mailer(ctx: ServiceContext) -> Mailer:
    mailer: Mailer = ctx.extras[MAILER_EXTRA]
    return mailer


async def send_after_commit(mailer: Mailer, mail: OutgoingMail, *, purpose: str) -> bool:
    """Send `mail` once its transaction has committed; return whether SMTP accepted it.

    A failure is logged, not raised: the change stands, and the user asks for the mail again
    (verification and reset have resend endpoints).
    """
    try:
        await mailer.send(mail)
    except (MailError, OSError) as exc:
        log.error("identity.mail.send_failed", purpose=purpose, error=repr(exc))
        return False
    log.info("identity.mail.sent", purpose=purpose)
    return True
