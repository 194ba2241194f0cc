"""Read Mailcow's GET responses into records.

Mailcow returns numbers as JSON numbers or as strings depending on the version, quotas in bytes,
and the active flag as `active_int` beside a display value in some versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bwai_mail.mailcow.models import MIB, Alias, DkimKey, Domain, Mailbox


def domain_from(raw: Mapping[str, Any]) -> Domain:
    return Domain(
        domain=str(raw["domain_name"]),
        description=str(raw.get("description") or ""),
        max_aliases=_int(raw.get("max_num_aliases_for_domain")),
        max_mailboxes=_int(raw.get("max_num_mboxes_for_domain")),
        default_mailbox_quota_mib=_int(raw.get("def_quota_for_mbox")) // MIB,
        max_mailbox_quota_mib=_int(raw.get("max_quota_for_mbox")) // MIB,
        domain_quota_mib=_int(raw.get("max_quota_for_domain")) // MIB,
        active=_active(raw),
        raw=raw,
    )


def mailbox_from(raw: Mapping[str, Any]) -> Mailbox:
    return Mailbox(
        address=str(raw["username"]),
        name=str(raw.get("name") or ""),
        quota_mib=_int(raw.get("quota")) // MIB,
        active=_active(raw),
        raw=raw,
    )


def alias_from(raw: Mapping[str, Any]) -> Alias:
    return Alias(
        id=_int(raw["id"]),
        address=str(raw["address"]),
        goto=split_goto(str(raw.get("goto") or "")),
        active=_active(raw),
        raw=raw,
    )


def dkim_from(raw: Mapping[str, Any]) -> DkimKey:
    return DkimKey(
        selector=str(raw["dkim_selector"]),
        txt=str(raw["dkim_txt"]),
        public_key=str(raw.get("pubkey") or ""),
        length=_int(raw.get("length")),
    )


def split_goto(goto: str) -> tuple[str, ...]:
    """Return an alias's targets, sorted, from Mailcow's comma-separated `goto`."""
    return tuple(sorted(target.strip() for target in goto.split(",") if target.strip()))


def _int(value: Any) -> int:
    return int(value) if value not in (None, "") else 0


def _active(raw: Mapping[str, Any]) -> bool:
    value = raw.get("active_int", raw.get("active"))
    return str(value) == "1" or value is True
