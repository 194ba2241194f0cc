"""POST /v1/clients: operators create API clients (and tenants) over HTTP."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from bwai_web.auth import CurrentPrincipal, Principal, require_roles
from fastapi import APIRouter, Depends, Request, Response, status

from bwai_identity.clients.models import CreateClientRequest, CreatedClientResponse
from bwai_identity.clients.service import create_client, revoke_client

router = APIRouter(tags=["clients"])

Operator = Annotated[Principal, Depends(require_roles("operator"))]


@router.post("/v1/clients", status_code=status.HTTP_201_CREATED)
async def post_client(
    body: CreateClientRequest, request: Request, response: Response, operator: Operator
) -> CreatedClientResponse:
    ctx = request.app.state.ctx
    # The body carries a secret: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    created = await create_client(
        ctx.pool, body.tenant, body.role, body.name, ctx.clock, schemas=ctx.schemas
    )
    return CreatedClientResponse(
        client_id=created.client_id,
        client_secret=created.client_secret,
        tenant_id=created.tenant_id,
        tenant=body.tenant,
        tenant_created=created.tenant_created,
        role=body.role,
        name=body.name,
    )


@router.delete("/v1/clients/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_client(client_id: UUID, request: Request, principal: CurrentPrincipal) -> None:
    ctx = request.app.state.ctx
    await revoke_client(ctx.pool, client_id, principal=principal, clock=ctx.clock)
