"""Token verification, the JWKS cache and the FastAPI auth dependencies."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from bwai_core.clock import FrozenClock
from bwai_core.errors import Unauthenticated
from bwai_web.app import create_service_app
from bwai_web.auth import (
    DEFAULT_LEEWAY_S,
    CurrentPrincipal,
    JWKSCache,
    Principal,
    TokenInvalid,
    TokenVerifier,
    require_roles,
)
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter, Depends
from web_support import (
    AUDIENCE,
    ISSUER,
    KeyPair,
    StaticJWKS,
    make_context,
    new_key,
    sign,
    verifier_for,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, object], payload: dict[str, object]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())


async def test_valid_token_yields_principal(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    verifier = verifier_for(jwks)

    principal = await verifier.verify(sign(signing_key, roles=["operator"], tenant_id=None))

    assert principal.subject == "client-1"
    assert principal.client_id == "client-1"
    assert principal.tenant_id is None
    assert principal.roles == frozenset({"operator"})
    assert principal.is_operator
    assert principal.has_role("operator")
    assert not principal.has_role("tenant")


async def test_es256_token_is_accepted() -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key()))
    jwk["kid"] = "ec-1"

    async def fetch() -> dict[str, object]:
        return {"keys": [jwk]}

    verifier = TokenVerifier(JWKSCache(fetch), issuer=ISSUER, audience=AUDIENCE)
    token = jwt.encode(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "c",
            "roles": ["tenant"],
            "typ": "access",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        private_key,
        algorithm="ES256",
        headers={"kid": "ec-1"},
    )

    principal = await verifier.verify(token)

    assert principal.subject == "c"


async def test_alg_none_is_rejected(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    token = _unsigned({"alg": "none", "kid": signing_key.kid}, {"sub": "x"}) + "."

    with pytest.raises(TokenInvalid, match="algorithm 'none'"):
        await verifier_for(jwks).verify(token)


async def test_hs256_keyed_with_public_key_is_rejected(
    signing_key: KeyPair, jwks: StaticJWKS
) -> None:
    # The classic key-confusion forgery: HMAC with the public key's bytes as the secret.
    from web_support import claims

    signing_input = _unsigned({"alg": "HS256", "kid": signing_key.kid, "typ": "JWT"}, claims())
    secret = json.dumps(signing_key.public_jwk).encode()
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + _b64(signature)

    with pytest.raises(TokenInvalid, match="algorithm 'HS256'"):
        await verifier_for(jwks).verify(token)


async def test_oct_key_in_jwks_is_ignored(signing_key: KeyPair) -> None:
    secret = b"shared-secret-that-should-never-be-trusted"

    async def fetch() -> dict[str, object]:
        return {"keys": [{"kty": "oct", "kid": "oct-1", "k": _b64(secret), "alg": "HS256"}]}

    verifier = TokenVerifier(
        JWKSCache(fetch), issuer=ISSUER, audience=AUDIENCE, algorithms=("EdDSA", "HS256")
    )
    from web_support import claims

    token = jwt.encode(claims(), secret, algorithm="HS256", headers={"kid": "oct-1"})

    with pytest.raises(TokenInvalid, match="unknown key"):
        await verifier.verify(token)


TIME_CLAIMS = frozenset({"exp", "iat", "nbf"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exp": -31}, "expired"),
        ({"iat": 120}, "future"),
        ({"nbf": 120}, "not valid yet"),
        ({"exp": "tomorrow"}, "must be numbers"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "someone-else"}, "issuer"),
        ({"typ": "refresh"}, "not of type 'access'"),
        ({"typ": None}, "not of type 'access'"),
        ({"exp": None}, "invalid"),
        ({"roles": "operator"}, "roles"),
    ],
)
async def test_bad_claims_are_rejected(
    signing_key: KeyPair, jwks: StaticJWKS, overrides: dict[str, object], message: str
) -> None:
    # Times are offsets from now, taken when the test runs rather than when it is collected.
    now = int(time.time())
    claims = {
        name: now + value if name in TIME_CLAIMS and isinstance(value, int) else value
        for name, value in overrides.items()
    }
    token = sign(signing_key, **claims)

    with pytest.raises(TokenInvalid, match=message):
        await verifier_for(jwks).verify(token)


async def test_tampered_signature_is_rejected(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    header, payload, signature = sign(signing_key).split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]

    with pytest.raises(TokenInvalid, match="signature"):
        await verifier_for(jwks).verify(f"{header}.{payload}.{flipped}")


async def test_tampered_payload_is_rejected(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    from web_support import claims

    header, _, signature = sign(signing_key).split(".")
    forged = _b64(json.dumps(claims(roles=["operator"])).encode())

    with pytest.raises(TokenInvalid, match="signature"):
        await verifier_for(jwks).verify(f"{header}.{forged}.{signature}")


async def test_unknown_kid_is_rejected(jwks: StaticJWKS) -> None:
    stranger = new_key("not-published")

    with pytest.raises(TokenInvalid, match="unknown key"):
        await verifier_for(jwks).verify(sign(stranger))


async def test_garbage_token_is_rejected(jwks: StaticJWKS) -> None:
    with pytest.raises(TokenInvalid, match="well-formed"):
        await verifier_for(jwks).verify("not-a-jwt")


async def test_unknown_kids_refresh_at_most_once_per_interval(jwks: StaticJWKS) -> None:
    now = [1000.0]
    cache = JWKSCache(jwks, min_refresh_interval_s=5.0, monotonic=lambda: now[0])
    verifier = TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE)
    forged = [sign(new_key(f"forged-{i}")) for i in range(20)]

    for token in forged:
        with pytest.raises(TokenInvalid):
            await verifier.verify(token)

    assert jwks.calls == 1

    now[0] += 5.0
    with pytest.raises(TokenInvalid):
        await verifier.verify(forged[0])

    assert jwks.calls == 2


async def test_concurrent_unknown_kids_share_one_fetch(jwks: StaticJWKS) -> None:
    verifier = verifier_for(jwks)
    forged = [sign(new_key(f"forged-{i}")) for i in range(50)]

    results = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)

    assert all(isinstance(result, TokenInvalid) for result in results)
    assert jwks.calls == 1


async def test_new_kid_is_picked_up_after_rotation(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    now = [1000.0]
    cache = JWKSCache(jwks, min_refresh_interval_s=5.0, monotonic=lambda: now[0])
    verifier = TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE)
    await verifier.verify(sign(signing_key))
    rotated = new_key("key-2")
    jwks.keys.append(rotated)

    now[0] += 6.0
    principal = await verifier.verify(sign(rotated))

    assert principal.subject == "client-1"
    assert jwks.calls == 2


async def test_stale_keys_are_refetched_after_max_age(
    signing_key: KeyPair, jwks: StaticJWKS
) -> None:
    now = [1000.0]
    cache = JWKSCache(jwks, max_age_s=300.0, monotonic=lambda: now[0])
    verifier = TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE)
    await verifier.verify(sign(signing_key))

    now[0] += 301.0
    await verifier.verify(sign(signing_key))

    assert jwks.calls == 2


async def test_failed_refresh_keeps_previous_keys(signing_key: KeyPair) -> None:
    now = [1000.0]
    fail = [False]

    async def fetch() -> dict[str, object]:
        if fail[0]:
            raise httpx.ConnectError("identity is down")
        return {"keys": [signing_key.public_jwk]}

    cache = JWKSCache(fetch, max_age_s=300.0, monotonic=lambda: now[0])
    verifier = TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE)
    await verifier.verify(sign(signing_key))
    fail[0] = True

    now[0] += 301.0
    principal = await verifier.verify(sign(signing_key))

    assert principal.subject == "client-1"


def _auth_app(web_pool: object, clock: object, verifier: TokenVerifier) -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, object]:
        return {"subject": principal.subject, "roles": sorted(principal.roles)}

    @router.get("/operators-only")
    async def operators_only(
        principal: Annotated[Principal, Depends(require_roles("operator"))],
    ) -> dict[str, str]:
        return {"subject": principal.subject}

    ctx = make_context(pool=web_pool, clock=clock, verifier=verifier)  # type: ignore[arg-type]
    app = create_service_app(ctx, title="test", routers=[router])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver")


async def test_missing_token_is_401_with_bearer_challenge(
    web_pool: object, clock: object, jwks: StaticJWKS
) -> None:
    async with _auth_app(web_pool, clock, verifier_for(jwks)) as client:
        response = await client.get("/whoami")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/" + Unauthenticated.code)


async def test_invalid_token_is_401_with_invalid_token_challenge(
    web_pool: object, clock: object, jwks: StaticJWKS
) -> None:
    async with _auth_app(web_pool, clock, verifier_for(jwks)) as client:
        response = await client.get("/whoami", headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["type"].endswith("/invalid-token")


async def test_valid_token_reaches_endpoint(
    web_pool: object, clock: object, signing_key: KeyPair, jwks: StaticJWKS
) -> None:
    headers = {"Authorization": f"Bearer {sign(signing_key)}"}
    async with _auth_app(web_pool, clock, verifier_for(jwks)) as client:
        response = await client.get("/whoami", headers=headers)

    assert response.status_code == 200
    assert response.json() == {"subject": "client-1", "roles": ["tenant"]}


async def test_role_miss_is_403(
    web_pool: object, clock: object, signing_key: KeyPair, jwks: StaticJWKS
) -> None:
    headers = {"Authorization": f"Bearer {sign(signing_key, roles=['tenant'])}"}
    async with _auth_app(web_pool, clock, verifier_for(jwks)) as client:
        response = await client.get("/operators-only", headers=headers)

    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")


async def test_operator_passes_role_check(
    web_pool: object, clock: object, signing_key: KeyPair, jwks: StaticJWKS
) -> None:
    headers = {"Authorization": f"Bearer {sign(signing_key, roles=['operator'])}"}
    async with _auth_app(web_pool, clock, verifier_for(jwks)) as client:
        response = await client.get("/operators-only", headers=headers)

    assert response.status_code == 200


async def test_repeated_token_comes_from_cache(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    verifier = verifier_for(jwks)
    token = sign(signing_key)

    first = await verifier.verify(token)
    second = await verifier.verify(token)

    assert second is first


async def test_cached_token_expires(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    start = datetime.now(UTC)
    clock = FrozenClock(start)
    verifier = TokenVerifier(JWKSCache(jwks), issuer=ISSUER, audience=AUDIENCE, clock=clock)
    token = sign(signing_key, exp=int(start.timestamp()) + 60)
    await verifier.verify(token)

    clock.advance(timedelta(seconds=60 + DEFAULT_LEEWAY_S))

    with pytest.raises(TokenInvalid, match="expired"):
        await verifier.verify(token)
    with pytest.raises(TokenInvalid, match="expired"):
        await verifier.verify(token)


async def test_cached_access_token_is_no_step_up(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    verifier = verifier_for(jwks)
    access = sign(signing_key)
    await verifier.verify(access)

    with pytest.raises(TokenInvalid, match="not of type 'step_up'"):
        await verifier.verify_claims(access, "step_up")


async def test_step_up_token_is_no_access_token(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    verifier = verifier_for(jwks)
    step_up = sign(signing_key, typ="step_up", action="refund", target="p-1")
    await verifier.verify_claims(step_up, "step_up")

    with pytest.raises(TokenInvalid, match="not of type 'access'"):
        await verifier.verify(step_up)
    with pytest.raises(TokenInvalid, match="not of type 'access'"):
        await verifier.verify(step_up)


async def test_cached_token_fails_once_key_is_withdrawn(
    signing_key: KeyPair, jwks: StaticJWKS
) -> None:
    now = [1000.0]
    cache = JWKSCache(jwks, max_age_s=300.0, monotonic=lambda: now[0])
    verifier = TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE)
    token = sign(signing_key)
    await verifier.verify(token)
    jwks.keys = [new_key("key-2")]

    now[0] += 301.0

    with pytest.raises(TokenInvalid, match="unknown key"):
        await verifier.verify(token)


async def test_token_cache_drops_least_recent(signing_key: KeyPair, jwks: StaticJWKS) -> None:
    verifier = TokenVerifier(JWKSCache(jwks), issuer=ISSUER, audience=AUDIENCE, cache_size=2)
    tokens = [sign(signing_key, sub=f"client-{i}") for i in range(3)]
    first = await verifier.verify(tokens[0])
    third = await verifier.verify(tokens[2])
    await verifier.verify(tokens[1])

    assert await verifier.verify(tokens[2]) is third
    assert await verifier.verify(tokens[0]) is not first
