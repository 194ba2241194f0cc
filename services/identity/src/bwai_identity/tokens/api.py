"""POST /v1/oauth/token: the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bwai_identity.errors import OAuthError
from bwai_identity.settings import identity_settings
from bwai_identity.tokens.request import read_client_credentials
from bwai_identity.tokens.service import issue_token

router = APIRouter(tags=["oauth"])

# RFC 6749 section 5.1: token responses must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post("/v1/oauth/token")
async def post_token(request: Request) -> JSONResponse:
    ctx = request.app.state.ctx
    try:
        credentials = await read_client_credentials(request)
        issued = await issue_token(
            ctx.pool,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            settings=identity_settings(ctx),
            clock=ctx.clock,
        )
    except OAuthError as exc:
        return _error_response(exc)
    body = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
    }
    return JSONResponse(body, headers=_NO_STORE)


def _error_response(error: OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="bwai"'
    body = {"error": error.error, "error_description": error.description}
    return JSONResponse(body, status_code=error.status, headers=headers)
