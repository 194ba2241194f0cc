"""TOTP enrolment and step-up approvals under /v1/auth."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from bwai_core.errors import Forbidden
from bwai_web.auth import CurrentPrincipal, Principal
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from bwai_identity.deps import deps_from
from bwai_identity.stepup import service as stepup
from bwai_identity.totp import service
from bwai_identity.users import repository as users

router = APIRouter(tags=["totp"])

_NO_STORE = {"Cache-Control": "no-store"}


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)


class StepUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32, description="TOTP or recovery code.")
    action: str = Field(min_length=1, max_length=64, description="refund, dispute or key_rotation")
    target: str = Field(min_length=1, max_length=200, description="What the action applies to.")


@router.post("/v1/auth/totp/enrolment")
async def post_enrolment(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    deps = deps_from(request.app.state.ctx)
    user_id = _user_id(principal)
    user = await users.get_by_id(deps.pool, user_id)
    assert user is not None
    enrolment = await service.enrol(deps, user_id, user["email"])
    return JSONResponse(enrolment._asdict(), headers=_NO_STORE)


@router.get("/v1/auth/totp/enrolment/qr.svg")
async def get_enrolment_qr(request: Request, principal: CurrentPrincipal) -> Response:
    """Return a fresh enrolment's QR code as an SVG image (replaces an unconfirmed secret)."""
    deps = deps_from(request.app.state.ctx)
    user_id = _user_id(principal)
    user = await users.get_by_id(deps.pool, user_id)
    assert user is not None
    enrolment = await service.enrol(deps, user_id, user["email"])
    return Response(enrolment.qr_svg, media_type="image/svg+xml", headers=_NO_STORE)


@router.post("/v1/auth/totp/confirm")
async def post_confirm(
    body: CodeRequest, request: Request, principal: CurrentPrincipal
) -> JSONResponse:
    codes = await service.confirm(deps_from(request.app.state.ctx), _user_id(principal), body.code)
    return JSONResponse({"recovery_codes": codes}, headers=_NO_STORE)


@router.post("/v1/auth/step-up")
async def post_step_up(
    body: StepUpRequest, request: Request, principal: CurrentPrincipal
) -> JSONResponse:
    token, ttl = await stepup.approve(
        deps_from(request.app.state.ctx),
        principal,
        code=body.code,
        action=body.action,
        target=body.target,
    )
    content: dict[str, Any] = {
        "step_up_token": token,
        "expires_in": ttl,
        "action": body.action,
        "target": body.target,
    }
    return JSONResponse(content, headers=_NO_STORE)


def _user_id(principal: Principal) -> UUID:
    if not principal.is_user:
        raise Forbidden("TOTP belongs to users; API clients cannot enrol")
    return UUID(principal.subject)
