"""Step-up authentication for critical actions (refund, dispute, key rotation).

A user approves one action on one target with a fresh TOTP code at identity and gets a step-up
token: a short-lived JWT with `typ` "step_up" whose claims name the action and its target. The
service sends it back in the `X-Step-Up-Token` header beside the access token. A missing,
mismatched or spent approval is answered with 401 and
`WWW-Authenticate: Bearer error="insufficient_user_authentication"` (RFC 9470), so the client
knows to ask identity for one and retry.

Each token is single-use: the service records its `jti` in `step_up_uses` (STEP_UP_MIGRATIONS,
in the service's own database) before the action runs. A token is spent even when the action
then fails, and the user approves again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from bwai_core.db import MigrationSource
from bwai_core.errors import Unauthenticated
from starlette.requests import Request

from bwai_web.auth import CurrentPrincipal, Principal, TokenInvalid, TokenVerifier

log = structlog.get_logger()

STEP_UP_TOKEN_TYPE = "step_up"  # noqa: S105 - a token type name, not a secret
STEP_UP_HEADER = "X-Step-Up-Token"
# The acr value a step-up challenge asks for (RFC 9470 `acr_values`).
STEP_UP_ACR = "urn:bwai:acr:step-up"
# The critical actions a step-up token may approve; identity issues tokens only for these.
STEP_UP_ACTIONS = frozenset({"refund", "dispute", "key_rotation"})

STEP_UP_MIGRATIONS = MigrationSource("stepup", "bwai_web", folder="stepup_migrations")


class StepUpRequired(Unauthenticated):
    """The action needs a fresh step-up approval that the request lacks or cannot use (401)."""

    code = "step-up-required"
    title = "Step-up authentication required"

    def __init__(self, detail: str, *, action: str) -> None:
        super().__init__(detail, action=action)
        escaped = detail.replace("\\", "\\\\").replace('"', '\\"')
        self.challenge = (
            'Bearer error="insufficient_user_authentication", '
            f'error_description="{escaped}", acr_values="{STEP_UP_ACR}", action="{action}"'
        )


@dataclass(frozen=True, slots=True)
class StepUpApproval:
    """A verified and now spent approval of `action` on `target` by `subject`."""

    jti: str
    subject: str
    action: str
    target: str
    principal: Principal


async def verify_step_up(
    verifier: TokenVerifier,
    token: str,
    *,
    principal: Principal,
    action: str,
    target: str,
) -> dict[str, Any]:
    """Return the claims of a step-up token that approves `action` on `target` for `principal`.

    Raises StepUpRequired when the token is invalid, expired, of another type, or issued for
    another user, tenant, action or target. Does not spend the token (see `spend_step_up`).
    """
    try:
        claims = await verifier.verify_claims(token, STEP_UP_TOKEN_TYPE)
    except TokenInvalid as exc:
        raise StepUpRequired(f"the step-up token is invalid: {exc.detail}", action=action) from exc
    mismatch = _mismatch(claims, principal=principal, action=action, target=target)
    if mismatch is not None:
        raise StepUpRequired(f"the step-up token {mismatch}", action=action)
    return claims


async def spend_step_up(
    conn: asyncpg.Pool | asyncpg.Connection, claims: dict[str, Any], *, now: datetime
) -> None:
    """Record the token's `jti` as used; raise StepUpRequired when it was used before."""
    inserted = await conn.fetchval(
        """
        INSERT INTO step_up_uses (jti, subject, action, target, used_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (jti) DO NOTHING
        RETURNING true
        """,
        str(claims["jti"]),
        str(claims["sub"]),
        str(claims["action"]),
        str(claims["target"]),
        now,
        datetime.fromtimestamp(claims["exp"], UTC),
    )
    if not inserted:
        log.warning("auth.step_up.reused", jti=str(claims["jti"]), action=claims["action"])
        raise StepUpRequired("the step-up token was already used", action=str(claims["action"]))


def require_step_up(
    action: str, *, target_param: str | None = None, target: str | None = None
) -> Callable[[Request, Principal], Awaitable[StepUpApproval]]:
    """Return a FastAPI dependency that admits a request only with a fresh approval of `action`.

    The target is the path parameter `target_param` (a refund's payment id) or the fixed
    `target`. The dependency verifies the access token too, then spends the step-up token in
    the service's database (`ctx.pool`, which needs STEP_UP_MIGRATIONS).
    """
    if action not in STEP_UP_ACTIONS:
        raise ValueError(f"step-up action {action!r} is unknown: use one of {STEP_UP_ACTIONS}")
    if (target_param is None) == (target is None):
        raise ValueError("give exactly one of target_param and target")

    async def dependency(request: Request, principal: CurrentPrincipal) -> StepUpApproval:
        token = request.headers.get(STEP_UP_HEADER, "").strip()
        if not token:
            raise StepUpRequired(
                f"this action needs a step-up approval in the {STEP_UP_HEADER} header: "
                f"request one for action {action!r} at identity with a fresh TOTP code",
                action=action,
            )
        resolved = target if target is not None else str(request.path_params[str(target_param)])
        ctx = request.app.state.ctx
        claims = await verify_step_up(
            ctx.token_verifier, token, principal=principal, action=action, target=resolved
        )
        await spend_step_up(ctx.pool, claims, now=ctx.clock.now())
        log.info("auth.step_up.accepted", action=action, target=resolved, subject=claims["sub"])
        return StepUpApproval(str(claims["jti"]), str(claims["sub"]), action, resolved, principal)

    return dependency


def _mismatch(
    claims: dict[str, Any], *, principal: Principal, action: str, target: str
) -> str | None:
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        return "has no jti claim"
    if claims["sub"] != principal.subject:
        return "was issued to another user"
    if claims.get("tenant_id") != principal.tenant_id:
        return "was issued for another tenant"
    if claims.get("action") != action:
        return f"approves {claims.get('action')!r}, not {action!r}"
    if claims.get("target") != target:
        return "approves another target"
    return None
