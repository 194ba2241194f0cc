"""Signing of identity's JWTs with the active key; every token type goes through here."""

from __future__ import annotations

from typing import Any

import asyncpg
import jwt

from bwai_identity.keys.service import SIGNING_ALGORITHM, active_signing_key

# The `typ` claim of each token type; verifiers accept one type per check, so none of these can
# stand in for another.
ACCESS = "access"
STEP_UP = "step_up"


async def sign_claims(pool: asyncpg.Pool | asyncpg.Connection, claims: dict[str, Any]) -> str:
    """Return `claims` as a JWT signed with the active key, its kid in the header."""
    key = await active_signing_key(pool)
    return jwt.encode(
        claims, key.private_key, algorithm=SIGNING_ALGORITHM, headers={"kid": key.kid}
    )
