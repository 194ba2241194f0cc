"""Single-use tokens sent by email: email verification and password reset.

A token is 32 random bytes; only its SHA-256 is stored. Its purpose is part of the lookup, so a
verification token never resets a password and the other way round.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from bwai_identity.emailtokens import repository
from bwai_identity.errors import EmailTokenInvalid

Purpose = Literal["verify_email", "password_reset"]
VERIFY_EMAIL: Purpose = "verify_email"
PASSWORD_RESET: Purpose = "password_reset"  # noqa: S105 - a purpose name


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def issue(
    conn: asyncpg.Pool | asyncpg.Connection,
    user_id: UUID,
    purpose: Purpose,
    *,
    now: datetime,
    ttl_s: int,
) -> str:
    """Store a new token for `user_id` and return it (the only copy of the token itself)."""
    token = secrets.token_urlsafe(32)
    await repository.insert(
        conn,
        token_hash=token_hash(token),
        user_id=user_id,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    return token


async def redeem(
    conn: asyncpg.Pool | asyncpg.Connection, token: str, purpose: Purpose, *, now: datetime
) -> UUID:
    """Use the token once and return its user; raise EmailTokenInvalid if unknown or spent."""
    user_id = await repository.use(conn, token_hash(token), purpose, now=now)
    if user_id is None:
        raise EmailTokenInvalid(
            "the token is invalid, expired or already used: request a new email"
        )
    return user_id


async def revoke_all(
    conn: asyncpg.Pool | asyncpg.Connection, user_id: UUID, purpose: Purpose, *, now: datetime
) -> None:
    """Spend every outstanding token of `purpose` (a password change ends all resets)."""
    await repository.use_all(conn, user_id, purpose, now=now)


async def last_issued_at(
    conn: asyncpg.Pool | asyncpg.Connection, user_id: UUID, purpose: Purpose
) -> datetime | None:
    return await repository.latest_created_at(conn, user_id, purpose)
