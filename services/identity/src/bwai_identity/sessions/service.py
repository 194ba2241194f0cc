"""Sign-in, refresh-token rotation and sign-out for users.

A sign-in opens a session. Each refresh spends the presented refresh token and hands out a new
one; presenting a spent token again means it leaked, so the whole session (the token family)
is revoked. Access tokens are short-lived JWTs that name one tenant and the user's roles in it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from bwai_core.db import transaction
from bwai_core.ids import new_id, new_id_str

from bwai_identity.deps import Deps
from bwai_identity.errors import (
    CredentialsInvalid,
    EmailNotVerified,
    RefreshTokenInvalid,
    TenantAccessDenied,
    TenantSelectionRequired,
    TotpRequired,
)
from bwai_identity.sessions import repository
from bwai_identity.throttle import service as throttle
from bwai_identity.throttle.service import ThrottlePolicy
from bwai_identity.tokens.signing import ACCESS, sign_claims
from bwai_identity.totp import service as totp
from bwai_identity.users import repository as users
from bwai_identity.users.passwords import hash_password, password_needs_rehash, verify_password

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    tenant_id: str | None
    roles: list[str]
    # True when the role needs TOTP at sign-in but none is enrolled: the token then carries no
    # roles and serves only to enrol TOTP.
    totp_enrolment_required: bool


@dataclass(frozen=True, slots=True)
class _Grant:
    tenant_id: UUID | None
    roles: list[str]
    totp_needed: bool


async def login(
    deps: Deps,
    *,
    email: str,
    password: str,
    tenant: str | None,
    totp_code: str | None,
    address: str | None,
) -> TokenPair:
    """Check the password (and TOTP when a role needs it), then open a session.

    Raises TooManyAttempts while the account or the client address is locked, and
    CredentialsInvalid for an unknown email or a wrong password alike. Only after a correct
    password: EmailNotVerified, TenantSelectionRequired, TenantAccessDenied, TotpRequired,
    TotpInvalid.
    """
    email = email.strip().lower()
    now = deps.clock.now()
    keys = [throttle.account_key(email), throttle.address_key(address)]
    await throttle.ensure_not_locked(deps.pool, keys, now=now)

    user = await users.get_by_email(deps.pool, email)
    usable = user is not None and user["disabled_at"] is None
    matched = await verify_password(user["password_hash"] if usable else None, password)  # type: ignore[index]
    if user is None or not usable or not matched:
        await _count_failures(deps, keys)
        log.info("identity.login.failed", reason="credentials")
        raise CredentialsInvalid("the email or password is incorrect")
    await throttle.clear(deps.pool, keys[0])
    await _rehash_if_needed(deps, user, password)

    if user["email_verified_at"] is None:
        raise EmailNotVerified(
            f"verify your email address first: open the link we sent to {email}, or request a "
            "new one with POST /v1/auth/verify-email/resend",
            email=email,
        )
    grant = await _grant(deps, user, tenant)
    amr = ["pwd"]
    # A user who enrolled TOTP signs in with it, whatever the role requires, because a user
    # who turned on a second factor expects it to be requested.
    if await totp.is_enrolled(deps, user["id"]):
        if not totp_code:
            raise TotpRequired("this account needs a TOTP code: send it as totp_code")
        method = await totp.verify_second_factor(deps, user["id"], totp_code)
        amr += ["otp" if method == "otp" else "kba", "mfa"]
    return await _open_session(deps, user["id"], grant, amr, now)


async def refresh(deps: Deps, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair; a reused token revokes its whole session."""
    now = deps.clock.now()
    token_hash = _hash(refresh_token)
    async with transaction(deps.pool) as conn:
        session_id = await repository.use_refresh_token(conn, token_hash, now=now)
        if session_id is None:
            reused_session = await repository.session_of_token(conn, token_hash)
        else:
            session = await _live_session(conn, session_id, now)
            grant = await _regrant(deps, conn, session)
            pair = await _issue(deps, conn, session, grant, now)
    if session_id is None:
        await _revoke_reused(deps, reused_session, now)
        raise RefreshTokenInvalid("the refresh token is invalid or was already used: sign in again")
    return pair


async def logout(deps: Deps, session_id: str | None, user_id: str) -> bool:
    """Revoke the caller's session; its refresh tokens stop working at once."""
    if session_id is None:
        return False
    return await repository.revoke_session(
        deps.pool, UUID(session_id), now=deps.clock.now(), reason="logout", user_id=UUID(user_id)
    )


async def _grant(deps: Deps, user: asyncpg.Record, tenant: str | None) -> _Grant:
    memberships = await users.list_memberships(deps.pool, user["id"])
    platform_role = user["platform_role"]
    chosen = _choose_tenant(memberships, tenant, staff=platform_role is not None)
    roles = [platform_role] if platform_role else []
    if chosen is not None:
        roles.append(chosen["role"])
    tenant_id = chosen["tenant_id"] if chosen is not None else None
    return _Grant(tenant_id, roles, bool(set(roles) & deps.settings.totp_roles))


def _choose_tenant(
    memberships: list[asyncpg.Record], tenant: str | None, *, staff: bool
) -> asyncpg.Record | None:
    if tenant is not None:
        for membership in memberships:
            if tenant in (membership["slug"], str(membership["tenant_id"])):
                return membership
        raise TenantAccessDenied(f"you are not a member of tenant {tenant!r}")
    if len(memberships) == 1 and not staff:
        return memberships[0]
    if len(memberships) > 1 and not staff:
        slugs = [membership["slug"] for membership in memberships]
        raise TenantSelectionRequired(
            "you belong to several tenants: name one in `tenant` (" + ", ".join(slugs) + ")",
            tenants=[
                {"tenant_id": str(m["tenant_id"]), "slug": m["slug"], "role": m["role"]}
                for m in memberships
            ],
        )
    # Platform staff without a named tenant act platform-wide.
    return None


async def _regrant(deps: Deps, conn: asyncpg.Connection, session: asyncpg.Record) -> _Grant:
    # Roles are read again on every refresh, so a role change reaches tokens within one
    # access token lifetime.
    user = await users.get_by_id(conn, session["user_id"])
    if user is None or user["disabled_at"] is not None:
        raise RefreshTokenInvalid("the account is disabled")
    roles = [user["platform_role"]] if user["platform_role"] else []
    tenant_id = session["tenant_id"]
    if tenant_id is not None:
        role = await users.get_membership_role(conn, user["id"], tenant_id)
        if role is None:
            raise RefreshTokenInvalid("you are no longer a member of this tenant: sign in again")
        roles.append(role)
    return _Grant(tenant_id, roles, bool(set(roles) & deps.settings.totp_roles))


async def _open_session(
    deps: Deps, user_id: UUID, grant: _Grant, amr: list[str], now: datetime
) -> TokenPair:
    session_id = new_id()
    async with transaction(deps.pool) as conn:
        await repository.insert_session(
            conn,
            session_id=session_id,
            user_id=user_id,
            tenant_id=grant.tenant_id,
            amr=amr,
            auth_time=now,
            expires_at=now + timedelta(seconds=deps.settings.session_ttl_seconds),
        )
        session = await repository.get_session(conn, session_id)
        assert session is not None
        pair = await _issue(deps, conn, session, grant, now)
    log.info("identity.login.succeeded", user_id=str(user_id), session_id=str(session_id))
    return pair


async def _issue(
    deps: Deps, conn: asyncpg.Connection, session: asyncpg.Record, grant: _Grant, now: datetime
) -> TokenPair:
    refresh_token = "rt_" + secrets.token_urlsafe(32)
    await repository.insert_refresh_token(
        conn, token_hash=_hash(refresh_token), session_id=session["id"], created_at=now
    )
    # A role that needs TOTP is granted only to a session that proved one.
    lacks_totp = grant.totp_needed and "otp" not in session["amr"] and "kba" not in session["amr"]
    roles = [] if lacks_totp else grant.roles
    ttl = deps.settings.access_token_ttl_seconds
    claims = _access_claims(deps, session, roles, now, ttl)
    token = await sign_claims(conn, claims)
    tenant_id = str(grant.tenant_id) if grant.tenant_id is not None else None
    return TokenPair(token, refresh_token, ttl, tenant_id, roles, lacks_totp)


def _access_claims(
    deps: Deps, session: asyncpg.Record, roles: list[str], now: datetime, ttl: int
) -> dict[str, Any]:
    tenant_id = session["tenant_id"]
    return {
        "iss": deps.settings.jwt_issuer,
        "aud": deps.settings.jwt_audience,
        "sub": str(session["user_id"]),
        "typ": ACCESS,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl,
        "jti": new_id_str(),
        "tenant_id": str(tenant_id) if tenant_id is not None else None,
        "roles": roles,
        "amr": list(session["amr"]),
        "auth_time": int(session["auth_time"].timestamp()),
        "sid": str(session["id"]),
    }


async def _live_session(
    conn: asyncpg.Connection, session_id: UUID, now: datetime
) -> asyncpg.Record:
    session = await repository.get_session(conn, session_id)
    if session is None or session["revoked_at"] is not None or session["expires_at"] <= now:
        raise RefreshTokenInvalid("the session has ended: sign in again")
    return session


async def _revoke_reused(deps: Deps, session_id: UUID | None, now: datetime) -> None:
    if session_id is None:
        return
    revoked = await repository.revoke_session(
        deps.pool, session_id, now=now, reason="refresh_token_reused"
    )
    if revoked:
        log.warning("identity.refresh_token.reused", session_id=str(session_id))


async def _count_failures(deps: Deps, keys: list[str]) -> None:
    settings = deps.settings
    account = ThrottlePolicy(
        settings.login_free_failures_per_account,
        settings.login_max_lock_seconds,
        settings.login_failure_window_seconds,
    )
    address = ThrottlePolicy(
        settings.login_free_failures_per_address,
        settings.login_max_lock_seconds,
        settings.login_failure_window_seconds,
    )
    now = deps.clock.now()
    await throttle.record_failure(deps.pool, keys[0], account, now=now)
    await throttle.record_failure(deps.pool, keys[1], address, now=now)


async def _rehash_if_needed(deps: Deps, user: asyncpg.Record, password: str) -> None:
    if password_needs_rehash(user["password_hash"]):
        await users.update_password_hash(deps.pool, user["id"], await hash_password(password))


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
