"""Payments test fixtures: a migrated database, a ServiceContext built by hand, tokens, an app."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from bwai_core.clock import FrozenClock
from bwai_core.db import apply_migrations, create_pool
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_messaging.memory_bus import InMemoryBus
from bwai_messaging.schemas import SchemaRegistry
from bwai_payments.app import create_app
from bwai_payments.definition import SERVICE as PAYMENTS_SERVICE
from bwai_payments.payments.service import ADAPTERS_KEY
from bwai_payments.providers import build_adapters
from bwai_payments.settings import PaymentsSettings
from bwai_web.auth import JWKSCache, TokenVerifier
from bwai_web.service import ServiceContext
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from payments_fakes import FakeProviders

ISSUER = "bwai-identity"
AUDIENCE = "bwai"
KID = "payments-test-key"

TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def token_verifier(signing_key: Ed25519PrivateKey) -> TokenVerifier:
    public_jwk = jwt.algorithms.OKPAlgorithm.to_jwk(signing_key.public_key(), as_dict=True)
    document = {"keys": [{**public_jwk, "kid": KID, "alg": "EdDSA", "use": "sig"}]}

    async def fetch() -> dict[str, Any]:
        return document

    return TokenVerifier(JWKSCache(fetch), issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture(scope="session")
def make_token(signing_key: Ed25519PrivateKey) -> TokenFactory:
    def make(*, tenant: str | None = None, role: str = "tenant") -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"client-{tenant or 'ops'}",
            "tenant_id": tenant,
            "roles": [role],
            "client_id": f"client-{tenant or 'ops'}",
            "typ": "access",
            "iat": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, signing_key, algorithm="EdDSA", headers={"kid": KID})

    return make


@pytest.fixture
async def payments_pool(fresh_database: Any) -> AsyncIterator[asyncpg.Pool]:
    dsn = await fresh_database("payments")
    pool = await create_pool(dsn, min_size=2, max_size=20)
    # The same migrations, in the same order, as the service definition applies.
    await apply_migrations(pool, [MESSAGING_MIGRATIONS, *PAYMENTS_SERVICE.migrations])
    yield pool
    await pool.close()


@pytest.fixture
def providers() -> FakeProviders:
    return FakeProviders()


@pytest.fixture
def settings() -> PaymentsSettings:
    return PaymentsSettings(
        environment="test",
        nowpayments_api_url="http://127.0.0.1:9/nowpayments/v1",
        nowpayments_api_key="np-test-key",
        coinbase_commerce_api_url="http://127.0.0.1:9/coinbase",
        coinbase_commerce_api_key="cb-test-key",
        public_base_url="http://127.0.0.1:8000",
    )


@pytest.fixture
async def provider_client(providers: FakeProviders) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=providers.transport()) as client:
        yield client


@pytest.fixture
async def ctx(
    payments_pool: asyncpg.Pool,
    settings: PaymentsSettings,
    clock: FrozenClock,
    token_verifier: TokenVerifier,
    provider_client: httpx.AsyncClient,
) -> ServiceContext:
    context = ServiceContext(
        name="payments",
        settings=settings,
        pool=payments_pool,
        bus=InMemoryBus(),
        clock=clock,
        schemas=SchemaRegistry.default(),
        token_verifier=token_verifier,
        http=provider_client,
    )
    context.extras[ADAPTERS_KEY] = build_adapters(settings, provider_client)
    return context


@pytest.fixture
async def api(ctx: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://payments.test") as client:
        yield client
