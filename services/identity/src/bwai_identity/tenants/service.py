"""Tenants: found or created by slug; a new tenant publishes `identity.tenant.created`."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_core.ids import new_id
from bwai_messaging.schemas import SchemaRegistry

from bwai_identity.errors import TenantSlugInvalid, TenantSlugTaken
from bwai_identity.events import iso, publish
from bwai_identity.tenants import repository

log = structlog.get_logger()

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_SLUG = re.compile(SLUG_PATTERN)


def validate_slug(slug: str) -> str:
    """Return `slug` when it is 1 to 63 lower-case letters, digits or hyphens; else raise."""
    if not _SLUG.match(slug):
        raise TenantSlugInvalid(
            f"tenant slug {slug!r} is invalid: use 1 to 63 lower-case letters, digits and "
            "hyphens, starting with a letter or digit"
        )
    return slug


async def create_tenant(
    conn: asyncpg.Connection, slug: str, *, clock: Clock, schemas: SchemaRegistry
) -> UUID:
    """Create the tenant `slug` in the caller's transaction; raise TenantSlugTaken if it exists.

    Emits `identity.tenant.created` through the outbox.
    """
    tenant_id, created = await ensure_tenant(conn, slug, clock=clock, schemas=schemas)
    if not created:
        raise TenantSlugTaken(f"tenant slug {slug!r} is already taken: choose another one")
    return tenant_id


async def ensure_tenant(
    conn: asyncpg.Connection, slug: str, *, clock: Clock, schemas: SchemaRegistry
) -> tuple[UUID, bool]:
    """Return the tenant id for `slug` and whether it was created, in the caller's transaction.

    Emits `identity.tenant.created` through the outbox when the tenant is new.
    """
    now = clock.now()
    tenant_id, created = await repository.get_or_create(
        conn, tenant_id=new_id(), slug=validate_slug(slug), created_at=now
    )
    if created:
        await _publish_created(conn, tenant_id, slug, now, clock=clock, schemas=schemas)
        log.info("identity.tenant.created", tenant_id=str(tenant_id), slug=slug)
    return tenant_id, created


async def _publish_created(
    conn: asyncpg.Connection,
    tenant_id: UUID,
    slug: str,
    created_at: datetime,
    *,
    clock: Clock,
    schemas: SchemaRegistry,
) -> None:
    data = {"tenant_id": str(tenant_id), "slug": slug, "name": slug, "created_at": iso(created_at)}
    await publish(
        conn,
        "identity.tenant.created",
        data,
        subject=tenant_id,
        tenant_id=tenant_id,
        clock=clock,
        schemas=schemas,
    )
