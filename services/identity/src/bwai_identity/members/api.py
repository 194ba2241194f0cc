"""Members, invitations and platform roles under /v1/tenants, /v1/invitations and /v1/users."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from bwai_web.auth import CurrentPrincipal, Principal, require_roles
from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field

from bwai_identity.deps import deps_from
from bwai_identity.members import service
from bwai_identity.sessions import repository as sessions

router = APIRouter(tags=["members"])

Admin = Annotated[Principal, Depends(require_roles("admin"))]
Operator = Annotated[Principal, Depends(require_roles("operator"))]


class InvitationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Literal["owner", "member", "viewer"]


class AcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=512)
    password: str | None = Field(default=None, max_length=1024, description="For a new account.")


class MemberRoleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["owner", "member", "viewer"] | None = Field(description="None removes.")


class PlatformRoleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["operator", "admin"] | None = Field(description="None removes.")


@router.get("/v1/tenants/{tenant_id}/members")
async def get_members(
    tenant_id: UUID, request: Request, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    rows = await service.list_members(deps_from(request.app.state.ctx), principal, tenant_id)
    return [
        {"user_id": str(row["user_id"]), "email": row["email"], "role": row["role"]} for row in rows
    ]


@router.post("/v1/tenants/{tenant_id}/invitations", status_code=status.HTTP_202_ACCEPTED)
async def post_invitation(
    tenant_id: UUID, body: InvitationRequest, request: Request, principal: CurrentPrincipal
) -> dict[str, str]:
    await service.invite(
        deps_from(request.app.state.ctx), principal, tenant_id, body.email, body.role
    )
    return {"status": "invited"}


@router.put("/v1/tenants/{tenant_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def put_member_role(
    tenant_id: UUID,
    user_id: UUID,
    body: MemberRoleRequest,
    request: Request,
    principal: CurrentPrincipal,
) -> None:
    await service.change_member_role(
        deps_from(request.app.state.ctx), principal, tenant_id, user_id, body.role
    )


@router.post("/v1/invitations/accept")
async def post_accept(body: AcceptRequest, request: Request) -> dict[str, str]:
    user_id = await service.accept_invitation(
        deps_from(request.app.state.ctx), body.token, body.password
    )
    return {"user_id": str(user_id), "status": "accepted"}


@router.put("/v1/users/{user_id}/platform-role", status_code=status.HTTP_204_NO_CONTENT)
async def put_platform_role(
    user_id: UUID, body: PlatformRoleRequest, request: Request, admin: Admin
) -> None:
    await service.set_platform_role(
        deps_from(request.app.state.ctx), user_id, body.role, changed_by=admin.subject
    )


@router.post("/v1/users/{user_id}/sessions/revoke")
async def post_revoke_sessions(
    user_id: UUID, request: Request, operator: Operator
) -> dict[str, int]:
    ctx = request.app.state.ctx
    count = await sessions.revoke_user_sessions(
        ctx.pool, user_id, now=ctx.clock.now(), reason=f"revoked_by:{operator.subject}"
    )
    return {"revoked_sessions": count}
