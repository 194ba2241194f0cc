"""Email for the platform: SMTP sending and the Mailcow admin API client."""

from bwai_mail.errors import (
    MailcowAuthFailed,
    MailcowError,
    MailcowObjectExists,
    MailcowObjectNotFound,
    MailcowUnavailable,
    MailcowValidationError,
    MailError,
    OutgoingMailInvalid,
    SmtpPermanentError,
    SmtpSendFailed,
    SmtpTransientError,
)
from bwai_mail.secrets import SecretReader, static_secret
from bwai_mail.smtp import OutgoingMail, SmtpSender, SmtpSettings

__all__ = [
    "MailError",
    "MailcowAuthFailed",
    "MailcowError",
    "MailcowObjectExists",
    "MailcowObjectNotFound",
    "MailcowUnavailable",
    "MailcowValidationError",
    "OutgoingMail",
    "OutgoingMailInvalid",
    "SecretReader",
    "SmtpPermanentError",
    "SmtpSendFailed",
    "SmtpSender",
    "SmtpSettings",
    "SmtpTransientError",
    "static_secret",
]
