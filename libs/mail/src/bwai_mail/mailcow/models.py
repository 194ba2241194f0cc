"""What we ask Mailcow to create (specs) and what it returns when read (records).

Quotas are in MiB in specs and records alike; Mailcow takes MiB on write and returns bytes on read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import SecretStr

MIB = 1024 * 1024

RateLimitFrame = Literal["s", "m", "h", "d"]
ProvisionOutcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class DomainSpec:
    domain: str
    description: str = ""
    max_aliases: int = 400
    max_mailboxes: int = 10
    default_mailbox_quota_mib: int = 3072
    max_mailbox_quota_mib: int = 10240
    domain_quota_mib: int = 10240
    active: bool = True
    # Messages per `rate_limit_frame`; None leaves Mailcow's default.
    rate_limit: int | None = None
    rate_limit_frame: RateLimitFrame = "s"


@dataclass(frozen=True, slots=True)
class MailboxSpec:
    local_part: str
    domain: str
    name: str
    password: SecretStr
    quota_mib: int = 3072
    active: bool = True
    # Make the owner choose a new password at the first login.
    force_password_update: bool = True

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


@dataclass(frozen=True, slots=True)
class AliasSpec:
    address: str
    goto: tuple[str, ...]
    active: bool = True


@dataclass(frozen=True, slots=True)
class Domain:
    domain: str
    description: str
    max_aliases: int
    max_mailboxes: int
    default_mailbox_quota_mib: int
    max_mailbox_quota_mib: int
    domain_quota_mib: int
    active: bool
    raw: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str
    name: str
    quota_mib: int
    active: bool
    raw: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Alias:
    id: int
    address: str
    goto: tuple[str, ...]
    active: bool
    raw: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class DkimKey:
    """A domain's DKIM key; `txt` is the DNS TXT record value to publish at the selector."""

    selector: str
    txt: str
    public_key: str
    length: int


@dataclass(frozen=True, slots=True)
class MailcowResult:
    """The entries of a successful write: each entry's `msg`, and the warnings among them."""

    messages: tuple[tuple[str, ...], ...]
    warnings: tuple[tuple[str, ...], ...] = ()
