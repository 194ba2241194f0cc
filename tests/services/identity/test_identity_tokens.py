"""The client-credentials token endpoint and the JWKS that verifies its tokens."""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import jwt
import pytest
from bwai_core.clock import FrozenClock
from bwai_identity.clients.service import CreatedClient, create_client
from bwai_web.auth import TokenInvalid
from bwai_web.service import ServiceContext

TOKEN_URL = "/v1/oauth/token"
GRANT = {"grant_type": "client_credentials"}


@pytest.fixture
async def tenant_client(identity_ctx: ServiceContext) -> CreatedClient:
    return await create_client(
        identity_ctx.pool, "acme", "tenant", "acme backend", identity_ctx.clock
    )


def _basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


async def test_token_with_basic_auth_verifies(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext, tenant_client: CreatedClient
) -> None:
    response = await identity_client.post(
        TOKEN_URL, data=GRANT, headers=_basic(tenant_client.client_id, tenant_client.client_secret)
    )

    body = response.json()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    principal = await identity_ctx.token_verifier.verify(body["access_token"])
    assert principal.subject == tenant_client.client_id
    assert principal.client_id == tenant_client.client_id
    assert principal.tenant_id == tenant_client.tenant_id
    assert principal.roles == frozenset({"tenant"})


async def test_token_claims_and_header(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext, tenant_client: CreatedClient
) -> None:
    form = {
        **GRANT,
        "client_id": tenant_client.client_id,
        "client_secret": tenant_client.client_secret,
    }

    response = await identity_client.post(TOKEN_URL, data=form)

    token = response.json()["access_token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    jwks = (await identity_client.get("/.well-known/jwks.json")).json()
    now = int(identity_ctx.clock.now().timestamp())
    assert header["alg"] == "EdDSA"
    assert header["kid"] == jwks["keys"][0]["kid"]
    assert claims["iss"] == "bwai-identity"
    assert claims["aud"] == "bwai"
    assert claims["typ"] == "access"
    assert claims["iat"] == now
    assert claims["exp"] == now + 900
    assert claims["jti"]


async def test_token_expires_after_ttl(
    identity_client: httpx.AsyncClient,
    identity_ctx: ServiceContext,
    tenant_client: CreatedClient,
    clock: FrozenClock,
) -> None:
    form = {
        **GRANT,
        "client_id": tenant_client.client_id,
        "client_secret": tenant_client.client_secret,
    }
    response = await identity_client.post(TOKEN_URL, data=form)

    clock.advance(timedelta(seconds=900 + 30))
    with pytest.raises(TokenInvalid, match="expired"):
        await identity_ctx.token_verifier.verify(response.json()["access_token"])


async def test_url_encoded_basic_credentials_are_decoded(
    identity_client: httpx.AsyncClient, tenant_client: CreatedClient
) -> None:
    # RFC 6749 section 2.3.1: Basic credentials are form-encoded first; "-" and "_" stay as is.
    headers = _basic(tenant_client.client_id, tenant_client.client_secret.replace("-", "%2D"))

    response = await identity_client.post(TOKEN_URL, data=GRANT, headers=headers)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_secret": "wrong"},
        {"client_id": "00000000-0000-7000-8000-000000000000"},
        {"client_id": "not-a-uuid"},
    ],
)
async def test_bad_credentials_are_invalid_client(
    identity_client: httpx.AsyncClient,
    tenant_client: CreatedClient,
    credentials: dict[str, str],
) -> None:
    form = {
        **GRANT,
        "client_id": tenant_client.client_id,
        "client_secret": tenant_client.client_secret,
        **credentials,
    }

    response = await identity_client.post(TOKEN_URL, data=form)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_missing_credentials_are_invalid_client(
    identity_client: httpx.AsyncClient,
) -> None:
    response = await identity_client.post(TOKEN_URL, data=GRANT)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_revoked_client_is_invalid_client(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext, tenant_client: CreatedClient
) -> None:
    await identity_ctx.pool.execute(
        "UPDATE api_clients SET revoked_at = now() WHERE id = $1::uuid", tenant_client.client_id
    )

    response = await identity_client.post(
        TOKEN_URL, data=GRANT, headers=_basic(tenant_client.client_id, tenant_client.client_secret)
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_other_grant_type_is_unsupported(
    identity_client: httpx.AsyncClient, tenant_client: CreatedClient
) -> None:
    response = await identity_client.post(
        TOKEN_URL,
        data={"grant_type": "password"},
        headers=_basic(tenant_client.client_id, tenant_client.client_secret),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"client_id=a", "application/x-www-form-urlencoded"),
        (b'{"grant_type": "client_credentials"}', "application/json"),
        (
            b"grant_type=client_credentials&grant_type=client_credentials",
            "application/x-www-form-urlencoded",
        ),
    ],
)
async def test_malformed_request_is_invalid_request(
    identity_client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = await identity_client.post(
        TOKEN_URL, content=content, headers={"content-type": content_type}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_two_authentication_methods_is_invalid_request(
    identity_client: httpx.AsyncClient, tenant_client: CreatedClient
) -> None:
    form = {
        **GRANT,
        "client_id": tenant_client.client_id,
        "client_secret": tenant_client.client_secret,
    }

    response = await identity_client.post(
        TOKEN_URL, data=form, headers=_basic(tenant_client.client_id, tenant_client.client_secret)
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_jwks_publishes_public_key_only(identity_client: httpx.AsyncClient) -> None:
    response = await identity_client.get("/.well-known/jwks.json")

    keys = response.json()["keys"]
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    assert len(keys) == 1
    assert keys[0]["kty"] == "OKP"
    assert keys[0]["crv"] == "Ed25519"
    assert keys[0]["alg"] == "EdDSA"
    assert "d" not in keys[0]


async def test_jwks_keeps_recently_retired_keys(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext, clock: FrozenClock
) -> None:
    pool = identity_ctx.pool
    first = (await identity_client.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]
    await pool.execute(
        "UPDATE signing_keys SET state = 'retired', retired_at = $1 WHERE kid = $2",
        clock.now(),
        first,
    )
    from bwai_identity.keys.service import ensure_active_key

    second = await ensure_active_key(pool, clock)

    recent = (await identity_client.get("/.well-known/jwks.json")).json()["keys"]
    clock.advance(timedelta(days=2))
    later = (await identity_client.get("/.well-known/jwks.json")).json()["keys"]

    assert second != first
    assert {key["kid"] for key in recent} == {first, second}
    assert [key["kid"] for key in later] == [second]
