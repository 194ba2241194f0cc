"""Step-up approvals: a fresh TOTP code buys one short-lived, single-use token for one action.

Services check the token with `bwai_web.stepup.require_step_up`, which also spends it.
"""

from __future__ import annotations

from uuid import UUID

import structlog
from bwai_core.ids import new_id_str
from bwai_web.auth import Principal
from bwai_web.stepup import STEP_UP_ACTIONS

from bwai_identity.deps import Deps
from bwai_identity.errors import IdentityError
from bwai_identity.tokens.signing import STEP_UP, sign_claims
from bwai_identity.totp import service as totp

log = structlog.get_logger()


class StepUpNotAllowed(IdentityError):
    status = 403
    code = "step-up-not-allowed"
    title = "Step-up not allowed"


async def approve(
    deps: Deps, principal: Principal, *, code: str, action: str, target: str
) -> tuple[str, int]:
    """Verify a TOTP or recovery code and return a step-up token for `action` on `target`.

    Returns the token and its lifetime in seconds. Raises StepUpNotAllowed for an API client
    or an unknown action, and the errors of `verify_second_factor`.
    """
    if not principal.is_user:
        raise StepUpNotAllowed("step-up needs a signed-in user; API clients cannot approve")
    if action not in STEP_UP_ACTIONS:
        allowed = ", ".join(sorted(STEP_UP_ACTIONS))
        raise StepUpNotAllowed(f"action {action!r} is not a step-up action: use one of {allowed}")
    method = await totp.verify_second_factor(deps, UUID(principal.subject), code)

    now = int(deps.clock.now().timestamp())
    ttl = deps.settings.step_up_ttl_seconds
    claims = {
        "iss": deps.settings.jwt_issuer,
        "aud": deps.settings.jwt_audience,
        "sub": principal.subject,
        "typ": STEP_UP,
        "iat": now,
        "exp": now + ttl,
        "jti": new_id_str(),
        "tenant_id": principal.tenant_id,
        "action": action,
        "target": target,
        "amr": ["otp" if method == "otp" else "kba"],
        "auth_time": now,
    }
    token = await sign_claims(deps.pool, claims)
    log.info("identity.step_up.approved", user_id=principal.subject, action=action)
    return token, ttl
