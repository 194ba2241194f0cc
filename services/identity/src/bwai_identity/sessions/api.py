"""Sign-in, refresh, sign-out and the caller's sessions under /v1/auth."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from bwai_web.auth import CurrentPrincipal
from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bwai_identity.deps import deps_from
from bwai_identity.errors import SessionNotFound
from bwai_identity.sessions import repository, service

router = APIRouter(tags=["sessions"])

# RFC 6749 section 5.1: responses carrying tokens must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(default=None, description="Tenant slug or id, for users in several.")
    totp_code: str | None = Field(default=None, max_length=32, description="TOTP or recovery code.")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=512)


@router.post("/v1/auth/login")
async def post_login(body: LoginRequest, request: Request) -> JSONResponse:
    pair = await service.login(
        deps_from(request.app.state.ctx),
        email=body.email,
        password=body.password,
        tenant=body.tenant,
        totp_code=body.totp_code,
        address=request.client.host if request.client else None,
    )
    return _token_response(pair)


@router.post("/v1/auth/refresh")
async def post_refresh(body: RefreshRequest, request: Request) -> JSONResponse:
    pair = await service.refresh(deps_from(request.app.state.ctx), body.refresh_token)
    return _token_response(pair)


@router.post("/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def post_logout(request: Request, principal: CurrentPrincipal) -> None:
    await service.logout(deps_from(request.app.state.ctx), principal.session_id, principal.subject)


@router.get("/v1/auth/sessions")
async def get_sessions(request: Request, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    ctx = request.app.state.ctx
    rows = await repository.list_user_sessions(
        ctx.pool, UUID(principal.subject), now=ctx.clock.now()
    )
    return [
        {
            "session_id": str(row["id"]),
            "tenant_id": str(row["tenant_id"]) if row["tenant_id"] else None,
            "amr": list(row["amr"]),
            "auth_time": row["auth_time"].isoformat(),
            "expires_at": row["expires_at"].isoformat(),
            "current": str(row["id"]) == principal.session_id,
        }
        for row in rows
    ]


@router.delete("/v1/auth/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(session_id: UUID, request: Request, principal: CurrentPrincipal) -> None:
    ctx = request.app.state.ctx
    revoked = await repository.revoke_session(
        ctx.pool,
        session_id,
        now=ctx.clock.now(),
        reason="revoked_by_user",
        user_id=UUID(principal.subject),
    )
    if not revoked:
        raise SessionNotFound(f"no live session {session_id} of yours")


@router.get("/v1/auth/me")
async def get_me(principal: CurrentPrincipal) -> dict[str, Any]:
    return {
        "subject": principal.subject,
        "tenant_id": principal.tenant_id,
        "roles": sorted(principal.roles),
        "amr": sorted(principal.amr),
        "auth_time": principal.auth_time,
        "client_id": principal.client_id,
    }


def _token_response(pair: service.TokenPair) -> JSONResponse:
    body = {"token_type": "Bearer", **asdict(pair)}
    return JSONResponse(body, headers=_NO_STORE)
