"""SQL for tenants."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def get_or_create(
    conn: asyncpg.Connection, *, tenant_id: UUID, slug: str, created_at: datetime
) -> tuple[UUID, bool]:
    """Return the id of the tenant with `slug` and whether this call created it.

    Insert first and read on conflict: two concurrent creations of one slug make one tenant.
    """
    inserted = await conn.fetchval(
        """
        INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $2, $3)
        ON CONFLICT (slug) DO NOTHING
        RETURNING id
        """,
        tenant_id,
        slug,
        created_at,
    )
    if inserted is not None:
        return inserted, True
    existing = await conn.fetchval("SELECT id FROM tenants WHERE slug = $1", slug)
    return existing, False


async def get_tenant(
    conn: asyncpg.Pool | asyncpg.Connection, tenant_id: UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, slug, name FROM tenants WHERE id = $1", tenant_id)
