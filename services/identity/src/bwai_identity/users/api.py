"""Sign-up, email verification, password reset and change under /v1/auth."""

from __future__ import annotations

from uuid import UUID

from bwai_web.auth import CurrentPrincipal
from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse

from bwai_identity.deps import deps_from
from bwai_identity.errors import CredentialsInvalid
from bwai_identity.users import repository, service
from bwai_identity.users.models import (
    EmailRequest,
    PasswordChange,
    PasswordResetConfirm,
    SignUpRequest,
    SignUpResponse,
    TokenRequest,
)
from bwai_identity.users.passwords import verify_password

router = APIRouter(tags=["users"])

_ACCEPTED = {"status": "accepted"}


@router.post("/v1/auth/signup", status_code=status.HTTP_202_ACCEPTED)
async def post_signup(body: SignUpRequest, request: Request) -> SignUpResponse:
    result = await service.sign_up(
        deps_from(request.app.state.ctx),
        email=body.email,
        password=body.password,
        tenant_slug=body.tenant,
    )
    return SignUpResponse(
        email=result.email,
        verification_sent=result.verification_sent,
        next_step="open the link in the email we sent, then sign in at POST /v1/auth/login",
    )


@router.post("/v1/auth/verify-email")
async def post_verify_email(body: TokenRequest, request: Request) -> dict[str, str]:
    user_id = await service.verify_email(deps_from(request.app.state.ctx), body.token)
    return {"user_id": str(user_id), "status": "verified"}


@router.get("/v1/auth/verify-email", response_class=HTMLResponse)
async def get_verify_email(token: str, request: Request) -> HTMLResponse:
    # Verifies on the click itself. NOTE: a mail scanner that follows links spends the token;
    # the user then verifies again with a resent email.
    await service.verify_email(deps_from(request.app.state.ctx), token)
    return HTMLResponse(
        "<!doctype html><p>Your email address is verified. You can sign in now.</p>"
    )


@router.post("/v1/auth/verify-email/resend", status_code=status.HTTP_202_ACCEPTED)
async def post_resend(body: EmailRequest, request: Request) -> dict[str, str]:
    await service.resend_verification(deps_from(request.app.state.ctx), body.email)
    return _ACCEPTED


@router.post("/v1/auth/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def post_password_reset(body: EmailRequest, request: Request) -> dict[str, str]:
    await service.request_password_reset(deps_from(request.app.state.ctx), body.email)
    return _ACCEPTED


@router.post("/v1/auth/password-reset/confirm")
async def post_password_reset_confirm(
    body: PasswordResetConfirm, request: Request
) -> dict[str, str]:
    await service.reset_password(deps_from(request.app.state.ctx), body.token, body.new_password)
    return {"status": "password_changed"}


@router.post("/v1/auth/password")
async def post_password(
    body: PasswordChange, request: Request, principal: CurrentPrincipal
) -> dict[str, str]:
    deps = deps_from(request.app.state.ctx)
    user = (
        await repository.get_by_id(deps.pool, UUID(principal.subject))
        if principal.is_user
        else None
    )
    if user is None or not await verify_password(user["password_hash"], body.current_password):
        raise CredentialsInvalid("the current password is incorrect")
    await service.change_password(deps, user["id"], body.new_password)
    return {"status": "password_changed"}
