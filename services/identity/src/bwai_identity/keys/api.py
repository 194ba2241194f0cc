"""GET /.well-known/jwks.json: the public keys that verify identity's access tokens."""

from __future__ import annotations

from typing import Annotated

from bwai_core.errors import Forbidden
from bwai_web.stepup import StepUpApproval, require_step_up
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from bwai_identity.keys.service import load_jwks
from bwai_identity.operators import rotate_keys
from bwai_identity.settings import identity_settings

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json")
async def get_jwks(request: Request) -> JSONResponse:
    ctx = request.app.state.ctx
    settings = identity_settings(ctx)
    document = await load_jwks(
        ctx.pool, clock=ctx.clock, retired_key_publish_s=settings.retired_key_publish_seconds
    )
    cache_control = f"public, max-age={settings.jwks_max_age_seconds}"
    return JSONResponse(document, headers={"Cache-Control": cache_control})


@router.post("/v1/admin/identity/keys/rotate")
async def post_rotate(
    request: Request,
    approval: Annotated[
        StepUpApproval, Depends(require_step_up("key_rotation", target="signing-keys"))
    ],
) -> dict[str, object]:
    """Take the next rotation step; admins only, with a step-up approval for this action."""
    if not approval.principal.has_role("admin"):
        raise Forbidden("only platform admins rotate signing keys")
    ctx = request.app.state.ctx
    step = await rotate_keys(ctx.pool, ctx.clock, settings=identity_settings(ctx))
    return step._asdict()
