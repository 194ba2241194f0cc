"""Staged signing key rotation: publish a new key, then sign with it, then retire the old one.

Each call makes one step. The first publishes a pending key in the JWKS without signing with
it; a later call, once the key has been published for longer than verifiers cache the JWKS,
makes it the signing key and retires the old one, which stays published (see
`retired_key_publish_seconds`) until the tokens it signed have expired. Verifiers also refetch
the JWKS on an unknown kid, so even `force` needs no restart anywhere.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Literal, NamedTuple

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_core.db import transaction
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwai_identity.errors import SigningKeyMissing
from bwai_identity.keys import repository
from bwai_identity.keys.service import private_pem, public_jwk

log = structlog.get_logger()


class RotationStep(NamedTuple):
    """What one call did: `published` a pending key, `activated` it, or is `waiting`."""

    stage: Literal["published", "activated", "waiting"]
    kid: str
    # Seconds until the pending key may be activated; 0 once activated.
    wait_s: int


async def rotate_signing_keys(
    pool: asyncpg.Pool, clock: Clock, *, publish_wait_s: int, force: bool = False
) -> RotationStep:
    """Take the next step of a key rotation (see the module docstring) and return it.

    `publish_wait_s` is how long a pending key is published before it signs (the JWKS cache
    max-age); `force` activates a pending key at once.
    """
    now = clock.now()
    pending = await repository.get_pending_key(pool)
    if pending is None:
        kid = await _publish_pending(pool, clock)
        return RotationStep("published", kid, publish_wait_s)

    ready_at = pending["created_at"] + timedelta(seconds=publish_wait_s)
    if now < ready_at and not force:
        wait_s = math.ceil((ready_at - now).total_seconds())
        return RotationStep("waiting", pending["kid"], wait_s)

    async with transaction(pool) as conn:
        if not await repository.promote_pending_key(conn, pending["kid"], now=now):
            raise SigningKeyMissing("the pending key was activated by another rotation")
    log.info("identity.signing_key.activated", kid=pending["kid"])
    return RotationStep("activated", pending["kid"], 0)


async def _publish_pending(pool: asyncpg.Pool, clock: Clock) -> str:
    private_key = Ed25519PrivateKey.generate()
    jwk = public_jwk(private_key)
    inserted = await repository.insert_pending_key(
        pool,
        kid=jwk["kid"],
        private_key_pem=private_pem(private_key),
        public_jwk=jwk,
        created_at=clock.now(),
    )
    if not inserted:
        row = await repository.get_pending_key(pool)
        return str(row["kid"]) if row is not None else jwk["kid"]
    log.info("identity.signing_key.published", kid=jwk["kid"])
    return str(jwk["kid"])
