"""HTTP endpoints for disputes. Changes need an operator with a fresh step-up approval."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from bwai_web.auth import Principal, require_roles
from bwai_web.service import ServiceContext
from bwai_web.stepup import StepUpApproval, require_step_up
from fastapi import APIRouter, Depends, Request

from bwai_payments.access import Reader, visible_tenant
from bwai_payments.audit.dependencies import RequestMetaDep
from bwai_payments.audit.models import OperatorRequest
from bwai_payments.disputes import service
from bwai_payments.disputes.models import (
    DisputeList,
    DisputeOut,
    OpenDisputeRequest,
    ResolveDisputeRequest,
)

router = APIRouter(tags=["disputes"])
OperatorDep = Annotated[Principal, Depends(require_roles("operator"))]


@router.post("/v1/payments/{payment_id}/disputes", status_code=201, response_model=DisputeOut)
async def open_dispute(
    request: Request,
    payment_id: UUID,
    body: OpenDisputeRequest,
    operator: OperatorDep,
    _: Annotated[StepUpApproval, Depends(require_step_up("dispute", target_param="payment_id"))],
    meta: RequestMetaDep,
) -> DisputeOut:
    return await service.open_dispute(
        _ctx(request), payment_id, body.reason, OperatorRequest(operator, meta)
    )


@router.get("/v1/payments/{payment_id}/disputes", response_model=DisputeList)
async def list_disputes(request: Request, payment_id: UUID, caller: Reader) -> DisputeList:
    items = await service.list_disputes(_ctx(request), payment_id, visible_tenant(caller))
    return DisputeList(items=items)


@router.get("/v1/disputes/{dispute_id}", response_model=DisputeOut)
async def get_dispute(request: Request, dispute_id: UUID, caller: Reader) -> DisputeOut:
    return await service.get_dispute(_ctx(request), dispute_id, visible_tenant(caller))


@router.post("/v1/disputes/{dispute_id}/resolve", response_model=DisputeOut)
async def resolve_dispute(
    request: Request,
    dispute_id: UUID,
    body: ResolveDisputeRequest,
    operator: OperatorDep,
    _: Annotated[StepUpApproval, Depends(require_step_up("dispute", target_param="dispute_id"))],
    meta: RequestMetaDep,
) -> DisputeOut:
    actor = OperatorRequest(operator, meta)
    return await service.resolve_dispute(_ctx(request), dispute_id, body, actor)


def _ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx
