"""Fixtures for refunds, disputes and the operator audit: a database with step-up tables, the
provider sandbox in-process for NOWPayments payouts, step-up tokens and seeded paid payments.

Test modules import the fixtures they use by name, so pytest registers them there.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from bwai_core.clock import FrozenClock
from bwai_core.db import apply_migrations, create_pool
from bwai_core.ids import new_id
from bwai_core.secrets import CachedSecret, EnvSecretStore
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_messaging.memory_bus import InMemoryBus
from bwai_messaging.schemas import SchemaRegistry
from bwai_payments.app import create_app
from bwai_payments.definition import PAYMENTS_MIGRATIONS
from bwai_payments.payments.service import ADAPTERS_KEY
from bwai_payments.providers import build_adapters
from bwai_payments.refunds.settings import SECRETS_KEY, PayoutSecrets
from bwai_payments.settings import PaymentsSettings
from bwai_sandbox.app import create_app as create_sandbox_app
from bwai_sandbox.settings import SandboxSettings
from bwai_web.auth import TokenVerifier
from bwai_web.idempotency import IDEMPOTENCY_MIGRATIONS
from bwai_web.service import ServiceContext
from bwai_web.stepup import STEP_UP_MIGRATIONS
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

ISSUER = "bwai-identity"
AUDIENCE = "bwai"
KID = "payments-test-key"
OPERATOR = "client-ops"
SANDBOX_API = "http://sandbox.test/nowpayments/v1"

StepUpFactory = Callable[[str, str], str]


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    # No allowed webhook host: deliveries are rendered and recorded but never sent, so no
    # request leaves the test for a server that happens to listen on a local port.
    return SandboxSettings(webhook_allowed_hosts=(), webhook_max_attempts=1)


@pytest.fixture
def sandbox_app(sandbox_settings: SandboxSettings, clock: FrozenClock) -> FastAPI:
    return create_sandbox_app(sandbox_settings, clock=clock)


@pytest.fixture
async def ops_pool(fresh_database: Any) -> AsyncIterator[asyncpg.Pool]:
    dsn = await fresh_database("payments_ops")
    pool = await create_pool(dsn, min_size=2, max_size=30)
    await apply_migrations(
        pool,
        [MESSAGING_MIGRATIONS, IDEMPOTENCY_MIGRATIONS, STEP_UP_MIGRATIONS, PAYMENTS_MIGRATIONS],
    )
    yield pool
    await pool.close()


@pytest.fixture
async def ops_ctx(
    ops_pool: asyncpg.Pool,
    clock: FrozenClock,
    token_verifier: TokenVerifier,
    sandbox_app: FastAPI,
    sandbox_settings: SandboxSettings,
) -> AsyncIterator[ServiceContext]:
    """A payments context whose provider HTTP client reaches the in-process sandbox."""
    settings = PaymentsSettings(
        environment="test",
        nowpayments_api_url=SANDBOX_API,
        nowpayments_api_key=sandbox_settings.nowpayments_api_key,
        coinbase_commerce_api_url="http://sandbox.test/coinbase",
        coinbase_commerce_api_key=sandbox_settings.coinbase_api_key,
        public_base_url="http://payments.test",
    )
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app))
    ctx = ServiceContext(
        name="payments",
        settings=settings,
        pool=ops_pool,
        bus=InMemoryBus(),
        clock=clock,
        schemas=SchemaRegistry.default(),
        token_verifier=token_verifier,
        http=http,
    )
    ctx.extras[ADAPTERS_KEY] = build_adapters(settings, http)
    ctx.extras[SECRETS_KEY] = payout_secrets_for(sandbox_settings, with_totp=True)
    yield ctx
    await http.aclose()


def payout_secrets_for(sandbox: SandboxSettings, *, with_totp: bool) -> PayoutSecrets:
    values = {
        "BWAI_NOWPAYMENTS_API_KEY": sandbox.nowpayments_api_key,
        "BWAI_NOWPAYMENTS_EMAIL": sandbox.nowpayments_email,
        "BWAI_NOWPAYMENTS_PASSWORD": sandbox.nowpayments_password,
    }
    if with_totp:
        values["BWAI_NOWPAYMENTS_PAYOUT_TOTP_SECRET"] = sandbox.payout_totp_secret()
    store = EnvSecretStore(values)
    names = ("nowpayments_api_key", "nowpayments_email", "nowpayments_password")
    holders = [CachedSecret(store, name) for name in names]
    return PayoutSecrets(*holders, CachedSecret(store, "nowpayments_payout_totp_secret"))


@pytest.fixture
async def ops_api(ops_ctx: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(ops_ctx), client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://payments.test") as client:
        yield client


@pytest.fixture
def step_up(signing_key: Ed25519PrivateKey) -> StepUpFactory:
    """Return a factory of step-up tokens for the operator token of `make_token`."""

    def make(action: str, target: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": OPERATOR,
            "typ": "step_up",
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "tenant_id": None,
            "action": action,
            "target": target,
            "amr": ["otp"],
            "auth_time": now,
        }
        return jwt.encode(claims, signing_key, algorithm="EdDSA", headers={"kid": KID})

    return make


def operator_headers(
    make_token: Callable[..., str],
    step_up_token: str | None = None,
    key: str | None = None,
) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {make_token(role='operator')}",
        "User-Agent": "ops-console/1.0",
        "X-Correlation-Id": "corr-ops-1",
    }
    if step_up_token is not None:
        headers["X-Step-Up-Token"] = step_up_token
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def seed_payment(
    pool: asyncpg.Pool,
    *,
    provider: str = "nowpayments",
    status: str = "paid",
    pay_currency: str = "btc",
    amount_due: Decimal = Decimal("0.0015"),
    actually_paid: Decimal = Decimal("0.0015"),
    now: datetime,
    tenant: str = "acme",
) -> uuid.UUID:
    """Insert an order and one provider payment that received `actually_paid`."""
    order_id, payment_id = new_id(), new_id()
    order_status = "paid" if status == "paid" else "partially_paid"
    await pool.execute(
        """
        INSERT INTO orders (id, tenant_id, amount, currency, status, created_at, updated_at)
        VALUES ($1, $2, 100, 'USD', $3, $4, $4)
        """,
        order_id,
        tenant,
        order_status,
        now,
    )
    await pool.execute(
        """
        INSERT INTO payments (id, order_id, tenant_id, provider, provider_checkout_id,
            provider_payment_id, checkout_url, pay_currency, status, status_rank, amount_due,
            actually_paid, is_active, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, 'http://sandbox.test/checkout', $7, $8, 6, $9, $10,
                false, $11, $11)
        """,
        payment_id,
        order_id,
        tenant,
        provider,
        f"checkout-{payment_id.hex[:12]}",
        f"pp-{payment_id.hex[:12]}",
        pay_currency,
        status,
        amount_due,
        actually_paid,
        now,
    )
    return payment_id


async def audit_rows(pool: asyncpg.Pool, **filters: str) -> list[asyncpg.Record]:
    where = " AND ".join(f"{name} = ${i}" for i, name in enumerate(filters, start=1))
    query = "SELECT * FROM operator_audit" + (f" WHERE {where}" if where else "") + " ORDER BY id"
    rows: list[asyncpg.Record] = await pool.fetch(query, *filters.values())
    return rows
