"""Sign-up, email verification and passwords.

Sign-up never tells whether an address is registered: a known address gets the same response
and an email saying it already has an account.
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

import asyncpg
import structlog
from bwai_core.db import transaction
from bwai_core.ids import new_id

from bwai_identity.deps import Deps
from bwai_identity.emailtokens import service as email_tokens
from bwai_identity.emailtokens.service import PASSWORD_RESET, VERIFY_EMAIL
from bwai_identity.events import iso, publish
from bwai_identity.mail import messages
from bwai_identity.mail.sender import send_after_commit
from bwai_identity.sessions import repository as sessions_repository
from bwai_identity.tenants.service import create_tenant, validate_slug
from bwai_identity.throttle import service as throttle
from bwai_identity.users import repository
from bwai_identity.users.passwords import check_password_policy, hash_password

log = structlog.get_logger()

VERIFY_PATH = "/v1/auth/verify-email"
RESET_PATH = "/v1/auth/password-reset"


class SignUp(NamedTuple):
    email: str
    verification_sent: bool


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def sign_up(deps: Deps, *, email: str, password: str, tenant_slug: str) -> SignUp:
    """Create a user, a new tenant it owns, and send the verification email.

    Emits `identity.user.registered` and `identity.tenant.created` in the transaction that
    creates them. Raises PasswordPolicyViolated, TenantSlugInvalid or TenantSlugTaken.
    """
    email = normalise_email(email)
    check_password_policy(password, min_length=deps.settings.password_min_length, email=email)
    validate_slug(tenant_slug)
    password_hash = await hash_password(password)
    now = deps.clock.now()
    user_id = new_id()

    async with transaction(deps.pool) as conn:
        created = await repository.insert_user(
            conn,
            user_id=user_id,
            email=email,
            password_hash=password_hash,
            platform_role=None,
            verified_at=None,
            created_at=now,
        )
        if created:
            tenant_id = await create_tenant(
                conn, tenant_slug, clock=deps.clock, schemas=deps.schemas
            )
            await repository.insert_membership(
                conn, user_id=user_id, tenant_id=tenant_id, role="owner", created_at=now
            )
            await publish_registered(deps, conn, user_id, email, tenant_id, "owner")
            token = await email_tokens.issue(
                conn,
                user_id,
                VERIFY_EMAIL,
                now=now,
                ttl_s=deps.settings.email_verification_ttl_seconds,
            )

    if not created:
        log.info("identity.user.sign_up_for_existing_email")
        mail = messages.already_registered_mail(to=email, sign_in_link=deps.link(RESET_PATH))
        return SignUp(email, await send_after_commit(deps.mailer, mail, purpose="sign_up_existing"))
    log.info("identity.user.registered", user_id=str(user_id), tenant_id=str(tenant_id))
    return SignUp(email, await _send_verification(deps, email, token))


async def verify_email(deps: Deps, token: str) -> UUID:
    """Spend the verification token and mark the address verified; return the user id.

    Emits `identity.user.email_verified` the first time an address is verified.
    """
    now = deps.clock.now()
    async with transaction(deps.pool) as conn:
        user_id = await email_tokens.redeem(conn, token, VERIFY_EMAIL, now=now)
        await mark_verified(deps, conn, user_id)
    log.info("identity.user.email_verified", user_id=str(user_id))
    return user_id


async def mark_verified(deps: Deps, conn: asyncpg.Connection, user_id: UUID) -> None:
    """Mark the user's address verified and emit the event, unless it already was."""
    now = deps.clock.now()
    email = await repository.mark_verified(conn, user_id, now=now)
    if email is None:
        return
    data = {"user_id": str(user_id), "email": email, "verified_at": iso(now)}
    await publish(
        conn,
        "identity.user.email_verified",
        data,
        subject=user_id,
        tenant_id=None,
        clock=deps.clock,
        schemas=deps.schemas,
    )


async def resend_verification(deps: Deps, email: str) -> None:
    """Send a new verification email to an unverified address, at most once per interval.

    The rate limit applies to every address, registered or not, so the answer reveals nothing.
    """
    email = normalise_email(email)
    now = deps.clock.now()
    await throttle.rate_limit(
        deps.pool,
        throttle.resend_key(email),
        interval_s=deps.settings.email_resend_interval_seconds,
        now=now,
    )
    user = await repository.get_by_email(deps.pool, email)
    if user is None or user["email_verified_at"] is not None:
        return
    token = await email_tokens.issue(
        deps.pool,
        user["id"],
        VERIFY_EMAIL,
        now=now,
        ttl_s=deps.settings.email_verification_ttl_seconds,
    )
    await _send_verification(deps, email, token)


async def request_password_reset(deps: Deps, email: str) -> None:
    """Email a password reset link to a registered address; do nothing visible otherwise."""
    email = normalise_email(email)
    now = deps.clock.now()
    await throttle.rate_limit(
        deps.pool,
        "reset:" + throttle.resend_key(email),
        interval_s=deps.settings.email_resend_interval_seconds,
        now=now,
    )
    user = await repository.get_by_email(deps.pool, email)
    if user is None:
        return
    ttl_s = deps.settings.password_reset_ttl_seconds
    token = await email_tokens.issue(deps.pool, user["id"], PASSWORD_RESET, now=now, ttl_s=ttl_s)
    mail = messages.password_reset_mail(
        to=email,
        link=deps.link(f"{RESET_PATH}?token={token}"),
        token=token,
        valid_minutes=ttl_s // 60,
    )
    await send_after_commit(deps.mailer, mail, purpose="password_reset")


async def reset_password(deps: Deps, token: str, new_password: str) -> UUID:
    """Set a new password with a reset token; every other reset token and session ends."""
    now = deps.clock.now()
    async with transaction(deps.pool) as conn:
        user_id = await email_tokens.redeem(conn, token, PASSWORD_RESET, now=now)
        user = await repository.get_by_id(conn, user_id)
        assert user is not None  # email_tokens.user_id references users
        await _change_password(deps, conn, user_id, user["email"], new_password)
        # The reset link proves control of the address, like the verification link.
        await mark_verified(deps, conn, user_id)
    log.info("identity.user.password_reset", user_id=str(user_id))
    return user_id


async def change_password(deps: Deps, user_id: UUID, new_password: str) -> None:
    """Set a new password for a signed-in user who proved the current one."""
    async with transaction(deps.pool) as conn:
        user = await repository.get_by_id(conn, user_id)
        assert user is not None
        await _change_password(deps, conn, user_id, user["email"], new_password)
    log.info("identity.user.password_changed", user_id=str(user_id))


async def publish_registered(
    deps: Deps,
    conn: asyncpg.Connection,
    user_id: UUID,
    email: str,
    tenant_id: UUID | None,
    role: str,
) -> None:
    data = {
        "user_id": str(user_id),
        "email": email,
        "tenant_id": str(tenant_id) if tenant_id is not None else None,
        "role": role,
        "registered_at": iso(deps.clock.now()),
    }
    await publish(
        conn,
        "identity.user.registered",
        data,
        subject=user_id,
        tenant_id=tenant_id,
        clock=deps.clock,
        schemas=deps.schemas,
    )


async def _change_password(
    deps: Deps, conn: asyncpg.Connection, user_id: UUID, email: str, new_password: str
) -> None:
    check_password_policy(new_password, min_length=deps.settings.password_min_length, email=email)
    now = deps.clock.now()
    await repository.set_password(conn, user_id, await hash_password(new_password), now=now)
    # A changed password ends outstanding reset links and every session signed in before.
    await email_tokens.revoke_all(conn, user_id, PASSWORD_RESET, now=now)
    await sessions_repository.revoke_user_sessions(
        conn, user_id, now=now, reason="password_changed"
    )


async def _send_verification(deps: Deps, email: str, token: str) -> bool:
    ttl_s = deps.settings.email_verification_ttl_seconds
    mail = messages.verification_mail(
        to=email,
        link=deps.link(f"{VERIFY_PATH}?token={token}"),
        token=token,
        valid_hours=ttl_s // 3600,
    )
    return await send_after_commit(deps.mailer, mail, purpose="verify_email")
