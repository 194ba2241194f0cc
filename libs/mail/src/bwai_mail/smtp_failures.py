"""Sort aiosmtplib's exceptions into transient failures (retry) and permanent ones (do not)."""

from __future__ import annotations

import aiosmtplib

from bwai_mail.errors import SmtpPermanentError, SmtpSendFailed, SmtpTransientError

# Connection-level failures that say nothing about the message, so a later attempt may pass.
_TRANSIENT_TYPES = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    aiosmtplib.SMTPServerDisconnected,
)


def classify_failure(error: aiosmtplib.SMTPException, *, server: str) -> SmtpSendFailed:
    """Return the typed failure for an aiosmtplib exception raised while sending to `server`.

    RFC 5321 section 4.2.1: a 4yz reply is a transient negative completion and a 5yz reply a
    permanent one. Failures without a reply (refused connection, timeout, dropped connection)
    are transient; anything else, such as a server without STARTTLS, is a configuration error
    and permanent.
    """
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return _from_refused_recipients(error, server=server)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _from_reply(error.code, error.message, server=server)
    if isinstance(error, _TRANSIENT_TYPES):
        return SmtpTransientError(f"SMTP server {server} failed: {error}")
    return SmtpPermanentError(f"SMTP server {server} failed: {error}")


def _from_reply(code: int, message: str, *, server: str) -> SmtpSendFailed:
    detail = f"SMTP server {server} replied {code} {message}"
    if 400 <= code < 500:
        return SmtpTransientError(detail, smtp_code=code)
    return SmtpPermanentError(detail, smtp_code=code)


def _from_refused_recipients(
    error: aiosmtplib.SMTPRecipientsRefused, *, server: str
) -> SmtpSendFailed:
    # One permanent refusal makes the whole send permanent: retrying cannot reach that recipient.
    refusals = sorted(error.recipients, key=lambda refused: refused.code, reverse=True)
    if not refusals:
        return SmtpPermanentError(f"SMTP server {server} refused every recipient")
    worst = refusals[0]
    return _from_reply(worst.code, f"{worst.message} (recipient {worst.recipient})", server=server)
