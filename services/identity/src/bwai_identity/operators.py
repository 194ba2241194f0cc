"""Commands the `bwai` CLI calls directly on identity's database (no API token exists yet)."""

from __future__ import annotations

from typing import Literal, NamedTuple

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_core.db import transaction
from bwai_core.ids import new_id
from bwai_messaging.schemas import SchemaRegistry

from bwai_identity.errors import EmailAlreadyRegistered
from bwai_identity.keys.rotation import RotationStep, rotate_signing_keys
from bwai_identity.settings import IdentitySettings
from bwai_identity.users import repository as users
from bwai_identity.users.passwords import check_password_policy, hash_password
from bwai_identity.users.service import normalise_email

log = structlog.get_logger()


class CreatedOperator(NamedTuple):
    user_id: str
    email: str
    role: str


async def create_operator(
    pool: asyncpg.Pool,
    *,
    email: str,
    password: str,
    role: Literal["operator", "admin"] = "admin",
    clock: Clock,
    schemas: SchemaRegistry,
    settings: IdentitySettings | None = None,
) -> CreatedOperator:
    """Create a platform operator or admin whose email counts as verified.

    The first one is usually an admin, who then manages the others over the API. Signing in
    needs TOTP for these roles by default, so the first sign-in returns a token that only
    enrols TOTP. Emits `identity.user.registered`. Raises EmailAlreadyRegistered or
    PasswordPolicyViolated.
    """
    settings = settings or IdentitySettings()
    email = normalise_email(email)
    check_password_policy(password, min_length=settings.password_min_length, email=email)
    password_hash = await hash_password(password)
    user_id = new_id()
    now = clock.now()

    # Imported here: users.service imports the mail sender, which the CLI does not otherwise need.
    from bwai_identity.deps import Deps
    from bwai_identity.users.service import publish_registered

    deps = Deps(pool, clock, schemas, settings, mailer=None)  # type: ignore[arg-type]
    async with transaction(pool) as conn:
        inserted = await users.insert_user(
            conn,
            user_id=user_id,
            email=email,
            password_hash=password_hash,
            platform_role=role,
            verified_at=now,
            created_at=now,
        )
        if not inserted:
            raise EmailAlreadyRegistered(f"{email} is already registered")
        await publish_registered(deps, conn, user_id, email, None, role)
    log.info("identity.operator.created", user_id=str(user_id), role=role)
    return CreatedOperator(str(user_id), email, role)


async def rotate_keys(
    pool: asyncpg.Pool,
    clock: Clock,
    *,
    settings: IdentitySettings | None = None,
    force: bool = False,
) -> RotationStep:
    """Take the next step of a signing key rotation (publish, then activate); see keys.rotation."""
    settings = settings or IdentitySettings()
    return await rotate_signing_keys(
        pool, clock, publish_wait_s=settings.jwks_max_age_seconds, force=force
    )
