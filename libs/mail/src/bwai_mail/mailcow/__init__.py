"""The Mailcow admin API: a typed client and converging provisioning on top of it."""

from bwai_mail.mailcow.client import MailcowClient
from bwai_mail.mailcow.models import (
    Alias,
    AliasSpec,
    DkimKey,
    Domain,
    DomainSpec,
    Mailbox,
    MailboxSpec,
    MailcowResult,
    ProvisionOutcome,
)
from bwai_mail.mailcow.provisioning import ensure_alias, ensure_domain, ensure_mailbox
from bwai_mail.mailcow.settings import MailcowSettings

__all__ = [
    "Alias",
    "AliasSpec",
    "DkimKey",
    "Domain",
    "DomainSpec",
    "Mailbox",
    "MailboxSpec",
    "MailcowClient",
    "MailcowResult",
    "MailcowSettings",
    "ProvisionOutcome",
    "ensure_alias",
    "ensure_domain",
    "ensure_mailbox",
]
