"""Creating API clients and tenants, from the service function and over HTTP."""

from __future__ import annotations

import asyncio
import base64

import asyncpg
import httpx
import pytest
from bwai_core.clock import FrozenClock
from bwai_identity.clients.service import create_client
from bwai_identity.errors import ClientRoleInvalid, TenantSlugInvalid
from bwai_identity.keys.service import ensure_active_key
from bwai_messaging.envelope import Event
from bwai_web.service import ServiceContext


async def _outbox_events(pool: asyncpg.Pool) -> list[Event]:
    rows = await pool.fetch("SELECT payload FROM outbox ORDER BY id")
    return [Event.from_bytes(bytes(row["payload"])) for row in rows]


async def _token(client: httpx.AsyncClient, client_id: str, secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    token: str = response.json()["access_token"]
    return token


async def test_new_tenant_is_created_with_event(identity_ctx: ServiceContext) -> None:
    created = await create_client(
        identity_ctx.pool, "acme", "tenant", None, identity_ctx.clock, schemas=identity_ctx.schemas
    )

    events = await _outbox_events(identity_ctx.pool)
    assert created.tenant_created
    assert len(created.client_secret) >= 43
    assert [event.type for event in events] == ["identity.tenant.created"]
    assert events[0].data == {
        "tenant_id": created.tenant_id,
        "slug": "acme",
        "name": "acme",
        "created_at": "2026-01-15T12:00:00Z",
    }
    assert events[0].tenantid == created.tenant_id
    assert events[0].subject == created.tenant_id


async def test_existing_tenant_gets_second_client_without_event(
    identity_ctx: ServiceContext,
) -> None:
    first = await create_client(identity_ctx.pool, "acme", "tenant", None, identity_ctx.clock)

    second = await create_client(identity_ctx.pool, "acme", "operator", "ops", identity_ctx.clock)

    assert not second.tenant_created
    assert second.tenant_id == first.tenant_id
    assert second.client_id != first.client_id
    assert len(await _outbox_events(identity_ctx.pool)) == 1


async def test_secret_is_stored_only_as_argon2id_hash(identity_ctx: ServiceContext) -> None:
    created = await create_client(identity_ctx.pool, "acme", "tenant", None, identity_ctx.clock)

    stored = await identity_ctx.pool.fetchval(
        "SELECT secret_hash FROM api_clients WHERE id = $1::uuid", created.client_id
    )

    assert stored.startswith("$argon2id$")
    assert created.client_secret not in stored


async def test_concurrent_creations_make_one_tenant(identity_ctx: ServiceContext) -> None:
    results = await asyncio.gather(
        *(
            create_client(identity_ctx.pool, "race", "tenant", None, identity_ctx.clock)
            for _ in range(5)
        )
    )

    assert len({result.tenant_id for result in results}) == 1
    assert sum(result.tenant_created for result in results) == 1
    assert len(await _outbox_events(identity_ctx.pool)) == 1


@pytest.mark.parametrize("slug", ["", "Acme", "-acme", "acme corp", "a" * 64, "acmé"])
async def test_invalid_slug_creates_nothing(identity_ctx: ServiceContext, slug: str) -> None:
    with pytest.raises(TenantSlugInvalid):
        await create_client(identity_ctx.pool, slug, "tenant", None, identity_ctx.clock)

    assert await identity_ctx.pool.fetchval("SELECT count(*) FROM tenants") == 0
    assert await identity_ctx.pool.fetchval("SELECT count(*) FROM api_clients") == 0


async def test_invalid_role_creates_nothing(identity_ctx: ServiceContext) -> None:
    with pytest.raises(ClientRoleInvalid):
        await create_client(identity_ctx.pool, "acme", "admin", None, identity_ctx.clock)

    assert await identity_ctx.pool.fetchval("SELECT count(*) FROM tenants") == 0


async def test_concurrent_starts_keep_one_active_key(
    identity_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    kids = await asyncio.gather(*(ensure_active_key(identity_pool, clock) for _ in range(5)))

    active = await identity_pool.fetchval(
        "SELECT count(*) FROM signing_keys WHERE state = 'active'"
    )
    assert active == 1
    assert len(set(kids)) == 1


async def test_operator_creates_client_over_http(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext
) -> None:
    operator = await create_client(
        identity_ctx.pool, "platform", "operator", None, identity_ctx.clock
    )
    token = await _token(identity_client, operator.client_id, operator.client_secret)

    response = await identity_client.post(
        "/v1/clients",
        json={"tenant": "acme", "role": "tenant", "name": "acme shop"},
        headers={"Authorization": f"Bearer {token}"},
    )

    body = response.json()
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert body["tenant"] == "acme"
    assert body["tenant_created"] is True
    assert body["role"] == "tenant"
    assert body["name"] == "acme shop"
    new_token = await _token(identity_client, body["client_id"], body["client_secret"])
    principal = await identity_ctx.token_verifier.verify(new_token)
    assert principal.tenant_id == body["tenant_id"]


async def test_tenant_cannot_create_clients(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext
) -> None:
    tenant = await create_client(identity_ctx.pool, "acme", "tenant", None, identity_ctx.clock)
    token = await _token(identity_client, tenant.client_id, tenant.client_secret)

    response = await identity_client.post(
        "/v1/clients",
        json={"tenant": "other", "role": "operator"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        await identity_ctx.pool.fetchval("SELECT count(*) FROM tenants WHERE slug = 'other'") == 0
    )


async def test_anonymous_cannot_create_clients(identity_client: httpx.AsyncClient) -> None:
    response = await identity_client.post("/v1/clients", json={"tenant": "acme", "role": "tenant"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_invalid_client_request_names_fields(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext
) -> None:
    operator = await create_client(
        identity_ctx.pool, "platform", "operator", None, identity_ctx.clock
    )
    token = await _token(identity_client, operator.client_id, operator.client_secret)

    response = await identity_client.post(
        "/v1/clients",
        json={"tenant": "Not A Slug", "role": "admin"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"tenant", "role"}
