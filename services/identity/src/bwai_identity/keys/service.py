"""Ed25519 signing keys: created at start when none is active, published as a JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import asyncpg
import structlog
from bwai_core.clock import Clock, SystemClock
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwai_identity.errors import SigningKeyMissing
from bwai_identity.keys import repository

log = structlog.get_logger()

SIGNING_ALGORITHM = "EdDSA"
# Longer than any access token lives, so tokens signed before a rotation still verify.
DEFAULT_RETIRED_KEY_PUBLISH_S = 86_400


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey


async def ensure_active_key(pool: asyncpg.Pool, clock: Clock) -> str:
    """Return the active key's kid, generating an Ed25519 key first when none is active.

    Safe with several replicas starting at once: a unique index admits one active key, and
    a replica whose insert lost reads the winner's key.
    """
    row = await repository.get_active_key(pool)
    if row is not None:
        return str(row["kid"])

    private_key = Ed25519PrivateKey.generate()
    jwk = public_jwk(private_key)
    inserted = await repository.insert_active_key(
        pool,
        kid=jwk["kid"],
        private_key_pem=private_pem(private_key),
        public_jwk=jwk,
        created_at=clock.now(),
    )
    if inserted:
        log.info("identity.signing_key.created", kid=jwk["kid"], algorithm=SIGNING_ALGORITHM)
    return (await active_signing_key(pool)).kid


async def active_signing_key(pool: asyncpg.Pool | asyncpg.Connection) -> SigningKey:
    """Return the key that signs new tokens; raise SigningKeyMissing when none is active."""
    row = await repository.get_active_key(pool)
    if row is None:
        raise SigningKeyMissing("identity has no active signing key; restart identity")
    return SigningKey(kid=row["kid"], private_key=_load_private_key(row["private_key_pem"]))


async def load_jwks(
    pool: asyncpg.Pool,
    *,
    clock: Clock | None = None,
    retired_key_publish_s: int = DEFAULT_RETIRED_KEY_PUBLISH_S,
) -> dict[str, Any]:
    """Return the JWKS document: the active key and keys retired in the last publish window.

    Embedded mode builds its TokenVerifier on this function instead of an HTTP fetch.
    """
    now = (clock or SystemClock()).now()
    retired_after = now - timedelta(seconds=retired_key_publish_s)
    return {"keys": await repository.list_published_jwks(pool, retired_after=retired_after)}


@lru_cache(maxsize=8)
def _load_private_key(pem: str) -> Ed25519PrivateKey:
    # Parsed once per key: tokens are signed with the same key until the next rotation.
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("the active signing key is not an Ed25519 key")
    return key


def private_pem(private_key: Ed25519PrivateKey) -> str:
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode()


def public_jwk(private_key: Ed25519PrivateKey) -> dict[str, Any]:
    raw = private_key.public_key().public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    x = _b64url(raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": x,
        "kid": _thumbprint(x),
        "alg": SIGNING_ALGORITHM,
        "use": "sig",
    }


def _thumbprint(x: str) -> str:
    # RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order.
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return _b64url(hashlib.sha256(members.encode()).digest())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
