"""Client secrets: random, shown once, stored as argon2id hashes.

argon2id with argon2-cffi's default parameters costs tens of milliseconds of CPU per hash or
check, so both run in a worker thread (argon2-cffi releases the GIL) instead of blocking the
event loop. Only the token endpoint checks secrets, never the payment path.
"""

from __future__ import annotations

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
SECRET_BYTES = 32


def new_secret() -> str:
    """Return a new client secret: 32 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(SECRET_BYTES)


async def hash_secret(secret: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, secret)


async def verify_secret(secret_hash: str | None, secret: str) -> bool:
    """Return whether `secret` matches `secret_hash`; a None hash is checked against a decoy."""
    try:
        matched = await asyncio.to_thread(_HASHER.verify, secret_hash or _decoy_hash(), secret)
    except (VerificationError, InvalidHashError):
        return False
    return matched and secret_hash is not None


def needs_rehash(secret_hash: str) -> bool:
    """Return whether the hash was made with weaker parameters than the current ones."""
    return _HASHER.check_needs_rehash(secret_hash)


@cache
def _decoy_hash() -> str:
    # Checked when the client id is unknown, so that the response takes as long as for a known
    # client with a wrong secret and does not reveal which client ids exist.
    return _HASHER.hash(secrets.token_urlsafe(SECRET_BYTES))
