"""How identity reaches SMTP: one sender per service, kept in `ctx.extras["mailer"]`."""

from __future__ import annotations

import os
from typing import Protocol

import structlog
from bwai_mail.errors import MailError
from bwai_mail.smtp import OutgoingMail, SmtpSender, SmtpSettings
from bwai_web.service import ServiceContext

log = structlog.get_logger()

MAILER_EXTRA = "mailer"


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> str: ...


def mailer_from_env() -> SmtpSender:
    """Build the SMTP sender from BWAI_SMTP_* variables (defaults: the local mail sink).

    The sink takes no password, so an unset BWAI_SMTP_PASSWORD means an empty one.
    """
    if "BWAI_SMTP_PASSWORD" in os.environ:
        return SmtpSender(SmtpSettings())  # type: ignore[call-arg]
    return SmtpSender(SmtpSettings(password=""))  # type: ignore[arg-type]


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
