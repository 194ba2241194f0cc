"""Access tokens: EdDSA-signed JWTs for authenticated API clients."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import asyncpg
import jwt
import structlog
from bwai_core.clock import Clock
from bwai_core.ids import new_id_str

from bwai_identity.clients.service import authenticate_client
from bwai_identity.keys.service import SIGNING_ALGORITHM, active_signing_key
from bwai_identity.settings import IdentitySettings

log = structlog.get_logger()


class IssuedToken(NamedTuple):
    access_token: str
    expires_in: int


async def issue_token(
    pool: asyncpg.Pool,
    *,
    client_id: str,
    client_secret: str,
    settings: IdentitySettings,
    clock: Clock,
) -> IssuedToken:
    """Authenticate the client and return a signed access token; raise InvalidClient on failure.

    Claims: iss, aud, sub (client id), client_id, tenant_id, roles, typ "access", iat, exp, jti.
    """
    client = await authenticate_client(pool, client_id, client_secret)
    key = await active_signing_key(pool)
    now = clock.now()
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": client.client_id,
        "client_id": client.client_id,
        "tenant_id": client.tenant_id,
        "roles": [client.role],
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": new_id_str(),
    }
    token = jwt.encode(
        claims, key.private_key, algorithm=SIGNING_ALGORITHM, headers={"kid": key.kid}
    )
    log.info("identity.token.issued", client_id=client.client_id, kid=key.kid)
    return IssuedToken(token, ttl)
