"""Helpers for the bwai_web tests: signing keys, tokens and a hand-built ServiceContext."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import jwt
from bwai_core.clock import Clock
from bwai_core.settings import ServiceSettings
from bwai_messaging.memory_bus import InMemoryBus
from bwai_messaging.schemas import SchemaRegistry
from bwai_web.auth import JWKSCache, TokenVerifier
from bwai_web.service import ServiceContext
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUER = "bwai-identity"
AUDIENCE = "bwai"


@dataclass
class KeyPair:
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA"}


def new_key(kid: str) -> KeyPair:
    return KeyPair(kid, Ed25519PrivateKey.generate())


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "client-1",
        "client_id": "client-1",
        "tenant_id": "tenant-1",
        "roles": ["tenant"],
        "typ": "access",
        "iat": now,
        "exp": now + 900,
        "jti": "token-1",
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def sign(key: KeyPair, **overrides: Any) -> str:
    return jwt.encode(
        claims(**overrides), key.private_key, algorithm="EdDSA", headers={"kid": key.kid}
    )


class StaticJWKS:
    """A JWKS fetch function that counts its calls."""

    def __init__(self, *keys: KeyPair) -> None:
        self.keys = list(keys)
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return {"keys": [key.public_jwk for key in self.keys]}


def verifier_for(fetch: StaticJWKS) -> TokenVerifier:
    return TokenVerifier(JWKSCache(fetch), issuer=ISSUER, audience=AUDIENCE)


def make_context(
    *,
    pool: asyncpg.Pool,
    clock: Clock,
    verifier: TokenVerifier,
    settings: ServiceSettings | None = None,
    schemas: SchemaRegistry | None = None,
    name: str = "test",
) -> ServiceContext:
    # The web tests publish no events, so an empty registry replaces the contracts.
    return ServiceContext(
        name=name,
        settings=settings or ServiceSettings(environment="test"),
        pool=pool,
        bus=InMemoryBus(),
        clock=clock,
        schemas=schemas or SchemaRegistry({}, {}),
        token_verifier=verifier,
        http=httpx.AsyncClient(),
    )
