"""SQL for users and their tenant memberships."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

Conn = asyncpg.Pool | asyncpg.Connection

_USER_COLUMNS = """
    id, email, password_hash, platform_role, email_verified_at, password_changed_at, disabled_at
"""


async def insert_user(
    conn: Conn,
    *,
    user_id: UUID,
    email: str,
    password_hash: str,
    platform_role: str | None,
    verified_at: datetime | None,
    created_at: datetime,
) -> bool:
    """Insert a user unless the email is taken; return whether it was inserted."""
    inserted = await conn.fetchval(
        """
        INSERT INTO users (id, email, password_hash, platform_role, email_verified_at,
                           password_changed_at, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $6)
        ON CONFLICT (email) DO NOTHING
        RETURNING true
        """,
        user_id,
        email,
        password_hash,
        platform_role,
        verified_at,
        created_at,
    )
    return bool(inserted)


async def get_by_email(conn: Conn, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE email = $1", email)


async def get_by_id(conn: Conn, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id)


async def mark_verified(conn: Conn, user_id: UUID, *, now: datetime) -> str | None:
    """Set the verification time if unset; return the email when this call verified it."""
    email: str | None = await conn.fetchval(
        """
        UPDATE users SET email_verified_at = $2
        WHERE id = $1 AND email_verified_at IS NULL
        RETURNING email
        """,
        user_id,
        now,
    )
    return email


async def set_password(conn: Conn, user_id: UUID, password_hash: str, *, now: datetime) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
        user_id,
        password_hash,
        now,
    )


async def update_password_hash(conn: Conn, user_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def set_platform_role(conn: Conn, user_id: UUID, role: str | None) -> str | None:
    """Set the platform role; return the previous one (raises nothing for an unknown user)."""
    previous: str | None = await conn.fetchval(
        """
        UPDATE users u SET platform_role = $2
        FROM users old WHERE u.id = $1 AND old.id = u.id
        RETURNING old.platform_role
        """,
        user_id,
        role,
    )
    return previous


async def insert_membership(
    conn: Conn, *, user_id: UUID, tenant_id: UUID, role: str, created_at: datetime
) -> bool:
    inserted = await conn.fetchval(
        """
        INSERT INTO memberships (user_id, tenant_id, role, created_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (user_id, tenant_id) DO NOTHING
        RETURNING true
        """,
        user_id,
        tenant_id,
        role,
        created_at,
    )
    return bool(inserted)


async def list_memberships(conn: Conn, user_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT m.tenant_id, t.slug, m.role
        FROM memberships m JOIN tenants t ON t.id = m.tenant_id
        WHERE m.user_id = $1
        ORDER BY t.slug
        """,
        user_id,
    )


async def get_membership_role(conn: Conn, user_id: UUID, tenant_id: UUID) -> str | None:
    role: str | None = await conn.fetchval(
        "SELECT role FROM memberships WHERE user_id = $1 AND tenant_id = $2", user_id, tenant_id
    )
    return role


async def lock_tenant_members(conn: asyncpg.Connection, tenant_id: UUID) -> list[asyncpg.Record]:
    """Return the tenant's members, row-locked, so concurrent role changes see each other."""
    return await conn.fetch(
        """
        SELECT m.user_id, u.email, m.role, m.created_at
        FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1
        ORDER BY m.created_at
        FOR UPDATE OF m
        """,
        tenant_id,
    )


async def list_tenant_members(conn: Conn, tenant_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT m.user_id, u.email, m.role, m.created_at
        FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1
        ORDER BY m.created_at
        """,
        tenant_id,
    )


async def set_membership_role(conn: Conn, user_id: UUID, tenant_id: UUID, role: str) -> None:
    await conn.execute(
        "UPDATE memberships SET role = $3 WHERE user_id = $1 AND tenant_id = $2",
        user_id,
        tenant_id,
        role,
    )


async def delete_membership(conn: Conn, user_id: UUID, tenant_id: UUID) -> None:
    await conn.execute(
        "DELETE FROM memberships WHERE user_id = $1 AND tenant_id = $2", user_id, tenant_id
    )
