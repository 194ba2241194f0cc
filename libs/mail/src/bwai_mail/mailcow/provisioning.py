"""Converging provisioning: create an object, or bring an existing one to the spec.

Each function adds the object first and treats `exists` as "read, compare, edit what differs", so
a redelivered event, a retry after a lost response, or two workers racing all end in the same state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from bwai_mail.errors import MailcowObjectExists, MailcowObjectNotFound
from bwai_mail.mailcow.client import (
    MailcowClient,
    alias_attributes,
    domain_attributes,
    mailbox_attributes,
)
from bwai_mail.mailcow.models import (
    Alias,
    AliasSpec,
    Domain,
    DomainSpec,
    Mailbox,
    MailboxSpec,
    MailcowResult,
    ProvisionOutcome,
)

log = structlog.get_logger()


async def ensure_domain(client: MailcowClient, spec: DomainSpec) -> ProvisionOutcome:
    """Create the domain, or edit the existing one where it differs from `spec`.

    NOTE: the rate limit is applied only when the domain is created; Mailcow edits it through a
    separate route that this client does not call yet.
    """
    try:
        await client.add_domain(spec)
    except MailcowObjectExists:
        current = await client.get_domain(spec.domain)
        if current is None:
            raise _vanished("domain", spec.domain) from None
        changes = _differences(domain_attributes(spec), _domain_values(current))
        return await _apply(changes, "domain", spec.domain, client.edit_domain)
    log.info("mailcow.provision.created", kind="domain", name=spec.domain)
    return "created"


async def ensure_mailbox(client: MailcowClient, spec: MailboxSpec) -> ProvisionOutcome:
    """Create the mailbox, or edit name, quota and active flag of the existing one.

    The password of an existing mailbox is never changed: its owner may have chosen a new one,
    and a redelivered event must not reset it.
    """
    try:
        await client.add_mailbox(spec)
    except MailcowObjectExists:
        current = await client.get_mailbox(spec.address)
        if current is None:
            raise _vanished("mailbox", spec.address) from None
        changes = _differences(mailbox_attributes(spec), _mailbox_values(current))
        return await _apply(changes, "mailbox", spec.address, client.edit_mailbox)
    log.info("mailcow.provision.created", kind="mailbox", name=spec.address)
    return "created"


async def ensure_alias(client: MailcowClient, spec: AliasSpec) -> ProvisionOutcome:
    """Create the alias, or edit targets and active flag of the existing one.

    Raises `MailcowObjectNotFound` when the address belongs to a mailbox, not an alias.
    """
    try:
        await client.add_alias(spec)
    except MailcowObjectExists:
        current = await client.find_alias(spec.address)
        if current is None:
            raise _vanished("alias", spec.address) from None
        changes = _differences(alias_attributes(spec), _alias_values(current))
        return await _apply(changes, "alias", current.id, client.edit_alias)
    log.info("mailcow.provision.created", kind="alias", name=spec.address)
    return "created"


EditFunction = Callable[[Any, Mapping[str, Any]], Awaitable[MailcowResult]]


async def _apply(
    changes: dict[str, Any], kind: str, item: Any, edit: EditFunction
) -> ProvisionOutcome:
    if not changes:
        log.info("mailcow.provision.unchanged", kind=kind, name=str(item))
        return "unchanged"
    await edit(item, changes)
    log.info("mailcow.provision.updated", kind=kind, name=str(item), fields=sorted(changes))
    return "updated"


def _differences(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in wanted.items() if current.get(name) != value}


def _domain_values(domain: Domain) -> dict[str, Any]:
    return {
        "description": domain.description,
        "aliases": domain.max_aliases,
        "mailboxes": domain.max_mailboxes,
        "defquota": domain.default_mailbox_quota_mib,
        "maxquota": domain.max_mailbox_quota_mib,
        "quota": domain.domain_quota_mib,
        "active": int(domain.active),
    }


def _mailbox_values(mailbox: Mailbox) -> dict[str, Any]:
    return {"name": mailbox.name, "quota": mailbox.quota_mib, "active": int(mailbox.active)}


def _alias_values(alias: Alias) -> dict[str, Any]:
    return {"goto": ",".join(alias.goto), "active": int(alias.active)}


def _vanished(kind: str, name: str) -> MailcowObjectNotFound:
    # Either the object was deleted between the add and the read, or the name is taken by an
    # object of another kind (an alias address that is a mailbox).
    return MailcowObjectNotFound(
        f"Mailcow reported {kind} {name} as existing, but reading it found none; "
        "check whether another object uses the name",
        msg=["object_not_found", name],
    )
