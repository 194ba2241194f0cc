"""Roles and invitations: owners manage their tenant's members, admins manage platform staff.

Every role change emits `identity.user.role_changed` in its transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Literal
from uuid import UUID

import asyncpg
import structlog
from bwai_core.db import transaction
from bwai_core.errors import Forbidden
from bwai_core.ids import new_id
from bwai_web.auth import Principal

from bwai_identity.deps import Deps
from bwai_identity.errors import EmailTokenInvalid, LastOwnerRequired, MemberNotFound, UserNotFound
from bwai_identity.events import iso, publish
from bwai_identity.mail import messages
from bwai_identity.mail.sender import send_after_commit
from bwai_identity.members import repository
from bwai_identity.tenants import repository as tenants
from bwai_identity.users import repository as users
from bwai_identity.users.passwords import check_password_policy, hash_password
from bwai_identity.users.service import mark_verified, publish_registered

log = structlog.get_logger()

TenantRole = Literal["owner", "member", "viewer"]
PlatformRole = Literal["operator", "admin"]
ACCEPT_PATH = "/v1/invitations/accept"


def ensure_can_manage(principal: Principal, tenant_id: UUID) -> None:
    """Allow the tenant's owners and platform operators; raise Forbidden for anyone else."""
    if principal.is_operator:
        return
    if principal.tenant_id == str(tenant_id) and principal.has_role("owner"):
        return
    raise Forbidden("only the tenant's owners and platform operators manage its members")


async def invite(
    deps: Deps, principal: Principal, tenant_id: UUID, email: str, role: TenantRole
) -> None:
    """Email an invitation to join the tenant with `role`; accepting it adds the membership."""
    ensure_can_manage(principal, tenant_id)
    tenant = await tenants.get_tenant(deps.pool, tenant_id)
    if tenant is None:
        raise MemberNotFound(f"tenant {tenant_id} does not exist")
    email = email.strip().lower()
    now = deps.clock.now()
    token = secrets.token_urlsafe(32)
    ttl_s = deps.settings.invitation_ttl_seconds
    await repository.insert_invitation(
        deps.pool,
        token_hash=_hash(token),
        tenant_id=tenant_id,
        email=email,
        role=role,
        invited_by=principal.subject,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    mail = messages.invitation_mail(
        to=email,
        tenant=tenant["name"],
        role=role,
        link=deps.link(f"{ACCEPT_PATH}?token={token}"),
        token=token,
        valid_days=ttl_s // 86_400,
    )
    await send_after_commit(deps.mailer, mail, purpose="invitation")
    log.info("identity.invitation.sent", tenant_id=str(tenant_id), role=role)


async def accept_invitation(deps: Deps, token: str, password: str | None) -> UUID:
    """Add the invited address to the tenant, creating the user (with `password`) if new.

    The emailed token proves control of the address, so the address counts as verified.
    """
    now = deps.clock.now()
    async with transaction(deps.pool) as conn:
        invitation = await repository.use_invitation(conn, _hash(token), now=now)
        if invitation is None:
            raise EmailTokenInvalid("the invitation is invalid, expired or already accepted")
        user_id = await _invited_user(deps, conn, invitation, password)
        previous = await users.get_membership_role(conn, user_id, invitation["tenant_id"])
        if previous is None:
            await users.insert_membership(
                conn,
                user_id=user_id,
                tenant_id=invitation["tenant_id"],
                role=invitation["role"],
                created_at=now,
            )
        else:
            await users.set_membership_role(
                conn, user_id, invitation["tenant_id"], invitation["role"]
            )
        await _role_changed(
            deps,
            conn,
            user_id,
            invitation["tenant_id"],
            previous,
            invitation["role"],
            changed_by=str(invitation["invited_by"]),
        )
    return user_id


async def change_member_role(
    deps: Deps, principal: Principal, tenant_id: UUID, user_id: UUID, role: TenantRole | None
) -> None:
    """Set a member's role, or remove the member with None; a tenant keeps at least one owner."""
    ensure_can_manage(principal, tenant_id)
    async with transaction(deps.pool) as conn:
        members = {
            row["user_id"]: row["role"] for row in await users.lock_tenant_members(conn, tenant_id)
        }
        previous = members.get(user_id)
        if previous is None:
            raise MemberNotFound(f"user {user_id} is not a member of tenant {tenant_id}")
        owners = [member for member, member_role in members.items() if member_role == "owner"]
        if previous == "owner" and role != "owner" and len(owners) == 1:
            raise LastOwnerRequired("the tenant's last owner cannot be demoted: add an owner first")
        if role is None:
            await users.delete_membership(conn, user_id, tenant_id)
        else:
            await users.set_membership_role(conn, user_id, tenant_id, role)
        await _role_changed(
            deps, conn, user_id, tenant_id, previous, role, changed_by=principal.subject
        )


async def set_platform_role(
    deps: Deps, user_id: UUID, role: PlatformRole | None, *, changed_by: str
) -> None:
    """Grant, change or remove a platform role (admins only; the API checks)."""
    async with transaction(deps.pool) as conn:
        user = await users.get_by_id(conn, user_id)
        if user is None:
            raise UserNotFound(f"user {user_id} does not exist")
        await users.set_platform_role(conn, user_id, role)
        await _role_changed(
            deps, conn, user_id, None, user["platform_role"], role, changed_by=changed_by
        )


async def list_members(deps: Deps, principal: Principal, tenant_id: UUID) -> list[asyncpg.Record]:
    if not principal.is_operator and principal.tenant_id != str(tenant_id):
        raise Forbidden("you can list the members of your own tenant only")
    return await users.list_tenant_members(deps.pool, tenant_id)


async def _invited_user(
    deps: Deps, conn: asyncpg.Connection, invitation: asyncpg.Record, password: str | None
) -> UUID:
    email = invitation["email"]
    user = await users.get_by_email(conn, email)
    if user is not None:
        await mark_verified(deps, conn, user["id"])
        return UUID(str(user["id"]))
    if password is None:
        raise EmailTokenInvalid("this address has no account yet: send a password to create one")
    check_password_policy(password, min_length=deps.settings.password_min_length, email=email)
    user_id = new_id()
    now = deps.clock.now()
    await users.insert_user(
        conn,
        user_id=user_id,
        email=email,
        password_hash=await hash_password(password),
        platform_role=None,
        verified_at=now,
        created_at=now,
    )
    await publish_registered(
        deps, conn, user_id, email, invitation["tenant_id"], invitation["role"]
    )
    return user_id


async def _role_changed(
    deps: Deps,
    conn: asyncpg.Connection,
    user_id: UUID,
    tenant_id: UUID | None,
    previous: str | None,
    role: str | None,
    *,
    changed_by: str,
) -> None:
    data = {
        "user_id": str(user_id),
        "scope": "tenant" if tenant_id is not None else "platform",
        "tenant_id": str(tenant_id) if tenant_id is not None else None,
        "previous_role": previous,
        "role": role,
        "changed_by": changed_by,
        "changed_at": iso(deps.clock.now()),
    }
    await publish(
        conn,
        "identity.user.role_changed",
        data,
        subject=user_id,
        tenant_id=tenant_id,
        clock=deps.clock,
        schemas=deps.schemas,
    )
    log.info("identity.user.role_changed", user_id=str(user_id), role=role, previous_role=previous)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
