"""GET /.well-known/jwks.json: the public keys that verify identity's access tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bwai_identity.keys.service import load_jwks
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
