"""Typed failures of SMTP sending and of the Mailcow admin API.

No message or attribute of these errors contains a password: SMTP errors carry the server's reply,
and Mailcow errors carry Mailcow's `msg` with the request's secret values masked.
"""

from __future__ import annotations

from typing import ClassVar

from bwai_core.errors import ServiceError


class MailError(ServiceError):
    """The root of every mail failure."""

    status = 502
    code = "mail-failed"
    title = "Mail operation failed"


class SmtpSendFailed(MailError):
    """The SMTP server did not accept a message; `smtp_code` is its reply code when it sent one."""

    code = "smtp-send-failed"
    title = "Sending mail failed"
    transient: ClassVar[bool] = False

    def __init__(self, detail: str, *, smtp_code: int | None = None) -> None:
        super().__init__(detail)
        self.smtp_code = smtp_code


class SmtpTransientError(SmtpSendFailed):
    """A failure that may pass on a later attempt: a 4xx reply, a refused or dropped connection."""

    status = 503
    code = "smtp-transient-failure"
    title = "Sending mail failed for now"
    transient = True


class SmtpPermanentError(SmtpSendFailed):
    """A failure that repeats on every attempt: a 5xx reply or rejected credentials."""

    code = "smtp-permanent-failure"
    title = "Sending mail failed"


class MailcowError(MailError):
    """Mailcow rejected a request; `msg` is Mailcow's message as a list (key first, then values)."""

    code = "mailcow-failed"
    title = "Mailcow request failed"

    def __init__(self, detail: str, *, msg: list[str] | None = None) -> None:
        super().__init__(detail)
        self.msg = msg or []

    @property
    def msg_key(self) -> str | None:
        """Mailcow's message key, such as `domain_exists` or `password_complexity`."""
        return self.msg[0] if self.msg else None


class MailcowAuthFailed(MailcowError):
    """Mailcow returned 401 or 403: a bad or read-only API key, or a caller address not allowed.

    Never retried, because Mailcow's fail2ban bans the caller's address range after repeated
    failed authentications.
    """

    status = 502
    code = "mailcow-auth-failed"
    title = "Mailcow rejected the API key"


class MailcowUnavailable(MailcowError):
    """Mailcow sent no response, or a 5xx response, on every attempt."""

    status = 503
    code = "mailcow-unavailable"
    title = "Mailcow is unavailable"


class MailcowObjectExists(MailcowError):
    """The domain, mailbox or alias to add exists already."""

    status = 409
    code = "mailcow-object-exists"
    title = "Mailcow object exists"


class MailcowValidationError(MailcowError):
    """Mailcow rejected the values of a request, for example `password_complexity`."""

    status = 422
    code = "mailcow-validation-failed"
    title = "Mailcow rejected the values"


class MailcowObjectNotFound(MailcowError):
    """A read after `object exists` found no such object, so provisioning cannot converge."""

    status = 409
    code = "mailcow-object-not-found"
    title = "Mailcow object not found"


class OutgoingMailInvalid(MailError):
    """A message that cannot be composed, such as a header value with a line break."""

    status = 422
    code = "outgoing-mail-invalid"
    title = "Outgoing mail is invalid"
