"""JWT bearer authentication: a cached JWKS, token verification and role checks.

Identity signs access tokens with an asymmetric key (EdDSA or ES256) and publishes the public keys
as a JWKS; every service verifies locally against a cached copy. Only asymmetric algorithms from
an allow-list are accepted, so `alg: none` and HS256 tokens keyed with a public key fail before
any key is used.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
import structlog
from bwai_core.clock import Clock, SystemClock
from bwai_core.errors import Forbidden, Unauthenticated
from fastapi import Depends
from starlette.requests import Request

log = structlog.get_logger()

JWKSFetch = Callable[[], Awaitable[dict[str, Any]]]
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a token type name, not a secret
# Clock skew tolerated between identity and the verifying service, in seconds.
DEFAULT_LEEWAY_S = 30.0
# Verified access tokens remembered per verifier; a client reuses its token until it expires.
DEFAULT_CACHE_SIZE = 10_000


class TokenInvalid(Unauthenticated):
    """A bearer token was presented but failed verification."""

    code = "invalid-token"
    title = "Invalid access token"
    challenge = 'Bearer error="invalid_token"'


# Roles a role includes, so a check names the least role an action needs. Platform staff:
# `admin` manages operators and includes `operator`. Tenant users: `owner` and `member` act for
# their tenant like a `tenant` API client; `viewer` only reads, so it does not include `tenant`.
IMPLIED_ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset({"operator"}),
    "owner": frozenset({"member", "viewer", "tenant"}),
    "member": frozenset({"viewer", "tenant"}),
}


def expand_roles(roles: Iterable[str]) -> frozenset[str]:
    """Return `roles` with every role they include (IMPLIED_ROLES), for role checks."""
    expanded = set(roles)
    for role in list(expanded):
        expanded |= IMPLIED_ROLES.get(role, frozenset())
    return frozenset(expanded)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: an API client or a signed-in user, for a tenant or the platform.

    `roles` holds the token's roles and the roles they include (see IMPLIED_ROLES). `amr` and
    `auth_time` (RFC 8176, OpenID Connect) say how and when a user signed in; API clients have
    neither. `session_id` names a user's sign-in session, which logout revokes.
    """

    subject: str
    tenant_id: str | None
    roles: frozenset[str]
    client_id: str | None
    amr: frozenset[str] = frozenset()
    auth_time: int | None = None
    session_id: str | None = None

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles

    @property
    def is_user(self) -> bool:
        return self.client_id is None

    def has_role(self, role: str) -> bool:
        return role in self.roles


class JWKSCache:
    """Public signing keys by `kid`, refreshed when stale or when an unknown `kid` appears.

    Refreshes are rate-limited to one per `min_refresh_interval_s`, so tokens with forged `kid`
    values cannot make every request call identity. A failed refresh keeps the previous keys.
    """

    def __init__(
        self,
        fetch: JWKSFetch,
        *,
        min_refresh_interval_s: float = 5.0,
        max_age_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_refresh_interval_s = min_refresh_interval_s
        self._max_age_s = max_age_s
        self._monotonic = monotonic
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> jwt.PyJWK | None:
        """Return the key with this `kid`, refreshing the set first if allowed; None if unknown."""
        if self._is_stale() or kid not in self._keys:
            await self._refresh_if_allowed()
        return self._keys.get(kid)

    async def refresh(self) -> None:
        """Fetch the key set now, regardless of the rate limit (used at start)."""
        async with self._lock:
            await self._refresh()

    def _is_stale(self) -> bool:
        return self._fetched_at is None or self._monotonic() - self._fetched_at > self._max_age_s

    async def _refresh_if_allowed(self) -> None:
        async with self._lock:
            # Another caller may have refreshed while this one waited for the lock.
            if self._attempted_at is not None and (
                self._monotonic() - self._attempted_at < self._min_refresh_interval_s
            ):
                return
            await self._refresh()

    async def _refresh(self) -> None:
        self._attempted_at = self._monotonic()
        try:
            document = await self._fetch()
        except Exception as exc:  # noqa: BLE001 - any fetch failure keeps the previous keys
            log.warning("auth.jwks.refresh_failed", error=repr(exc), known_keys=len(self._keys))
            return
        self._keys = _parse_jwks(document)
        self._fetched_at = self._monotonic()
        log.info("auth.jwks.refreshed", kids=sorted(self._keys))


@dataclass(frozen=True, slots=True)
class _VerifiedToken:
    kid: str
    key: jwt.PyJWK
    claims: dict[str, Any]
    principal: Principal


class TokenVerifier:
    """Verify access tokens issued by identity and turn their claims into a Principal.

    Verifying an Ed25519 signature and decoding the claims costs more than the rest of a short
    request's authentication, and a client sends the same access token until it expires. So
    `verify` caches each verified access token by its exact string, up to `cache_size` of them
    with the least recently used evicted first. A repeat only has its times checked again and
    its signing key compared with the current key set. Step-up tokens are never cached.
    """

    def __init__(
        self,
        jwks: JWKSCache,
        *,
        issuer: str,
        audience: str,
        algorithms: Sequence[str] = ("EdDSA", "ES256"),
        leeway_s: float = DEFAULT_LEEWAY_S,
        clock: Clock | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._jwks = jwks
        self._cache: OrderedDict[str, _VerifiedToken] = OrderedDict()
        self._cache_size = cache_size
        self._clock = clock or SystemClock()
        self._issuer = issuer
        self._audience = audience
        self._algorithms = tuple(algorithms)
        self._leeway_s = leeway_s

    async def verify(self, token: str) -> Principal:
        """Return the token's Principal; raise TokenInvalid (401) for any verification failure."""
        cached = self._cache.get(token)
        if cached is not None and await self._still_valid(token, cached):
            return cached.principal
        kid, key, claims = await self._verify(token, ACCESS_TOKEN_TYPE)
        principal = _principal(claims)
        self._remember(token, _VerifiedToken(kid, key, claims, principal))
        return principal

    async def verify_claims(self, token: str, token_type: str) -> dict[str, Any]:
        """Return the claims of a valid token whose `typ` is `token_type`; else raise TokenInvalid.

        Every token type shares the keys, issuer and audience, so the `typ` check is what keeps
        a step-up token from passing as an access token and the other way round.
        """
        _, _, claims = await self._verify(token, token_type)
        return claims

    async def _still_valid(self, token: str, cached: _VerifiedToken) -> bool:
        """Check a cached token's times again; False when its signing key is no longer current.

        Raises TokenInvalid, and evicts the token, once it has expired.
        """
        try:
            self._check_times(cached.claims)
        except TokenInvalid:
            self._cache.pop(token, None)
            raise
        if await self._jwks.get_key(cached.kid) is not cached.key:
            self._cache.pop(token, None)
            return False
        self._cache.move_to_end(token)
        return True

    def _remember(self, token: str, verified: _VerifiedToken) -> None:
        self._cache[token] = verified
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _verify(self, token: str, token_type: str) -> tuple[str, jwt.PyJWK, dict[str, Any]]:
        header = _unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in self._algorithms:
            raise TokenInvalid(f"token algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenInvalid("token header has no key id (kid)")

        key = await self._jwks.get_key(kid)
        if key is None:
            raise TokenInvalid("token is signed with an unknown key")
        return kid, key, self._decode(token, key, algorithm, token_type)

    def _decode(
        self, token: str, key: jwt.PyJWK, algorithm: str, token_type: str
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                # Times are checked below against the injected clock, not PyJWT's wall clock.
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError as exc:
            raise TokenInvalid("token audience is not accepted") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenInvalid("token issuer is not accepted") from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid("token signature or claims are invalid") from exc
        if claims.get("typ") != token_type:
            raise TokenInvalid(f"token is not of type {token_type!r}")
        self._check_times(claims)
        return claims

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._clock.now().timestamp()
        expires_at, issued_at = claims["exp"], claims["iat"]
        if not _is_number(expires_at) or not _is_number(issued_at):
            raise TokenInvalid("token exp and iat claims must be numbers")
        if now >= expires_at + self._leeway_s:
            raise TokenInvalid("token has expired")
        if issued_at > now + self._leeway_s:
            raise TokenInvalid("token is issued in the future")
        not_before = claims.get("nbf")
        if not_before is not None and (
            not _is_number(not_before) or not_before > now + self._leeway_s
        ):
            raise TokenInvalid("token is not valid yet")


def http_jwks_fetcher(client: httpx.AsyncClient, url: str) -> JWKSFetch:
    """Return a fetch function reading the JWKS document at `url` (distributed mode)."""

    async def fetch() -> dict[str, Any]:
        response = await client.get(url)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError(f"JWKS at {url} is not a JSON object")
        return document

    return fetch


async def authenticate(request: Request) -> Principal:
    """Verify the request's `Authorization: Bearer` token with the service's TokenVerifier."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token in the Authorization header")
    verifier: TokenVerifier = request.app.state.ctx.token_verifier
    return await verifier.verify(token.strip())


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Return a dependency that passes a principal holding any of `roles`, else raises 403."""
    accepted = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.roles & accepted:
            raise Forbidden(f"this action needs one of the roles: {', '.join(sorted(accepted))}")
        return principal

    return dependency


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid("token is not a well-formed JWT") from exc


def _parse_jwks(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        kid = entry.get("kid") if isinstance(entry, dict) else None
        # Symmetric keys have no place in a public key set; accepting one would allow forgery.
        if not isinstance(kid, str) or entry.get("kty") not in ("OKP", "EC"):
            continue
        try:
            keys[kid] = jwt.PyJWK(entry)
        except jwt.PyJWTError as exc:
            log.warning("auth.jwks.key_skipped", kid=kid, error=repr(exc))
    return keys


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles")
    tenant_id = claims.get("tenant_id")
    client_id = claims.get("client_id")
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise TokenInvalid("token roles claim must be a list of strings")
    if tenant_id is not None and not isinstance(tenant_id, str):
        raise TokenInvalid("token tenant_id claim must be a string")
    if client_id is not None and not isinstance(client_id, str):
        raise TokenInvalid("token client_id claim must be a string")
    amr = claims.get("amr", [])
    auth_time = claims.get("auth_time")
    session_id = claims.get("sid")
    if not isinstance(amr, list) or not all(isinstance(method, str) for method in amr):
        raise TokenInvalid("token amr claim must be a list of strings")
    if auth_time is not None and not _is_number(auth_time):
        raise TokenInvalid("token auth_time claim must be a number")
    if session_id is not None and not isinstance(session_id, str):
        raise TokenInvalid("token sid claim must be a string")
    return Principal(
        subject=str(claims["sub"]),
        tenant_id=tenant_id,
        roles=expand_roles(roles),
        client_id=client_id,
        amr=frozenset(amr),
        auth_time=int(auth_time) if auth_time is not None else None,
        session_id=session_id,
    )
