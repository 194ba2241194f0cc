"""HTTP endpoints for refunds. Changes need an operator with a fresh step-up approval."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from bwai_web.auth import Principal, require_roles
from bwai_web.idempotency import IdempotencyKeyHeader, fingerprint
from bwai_web.service import ServiceContext
from bwai_web.stepup import StepUpApproval, require_step_up
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from bwai_payments.access import Reader, visible_tenant
from bwai_payments.audit.dependencies import RequestMetaDep
from bwai_payments.audit.models import OperatorRequest
from bwai_payments.idempotent import require_key, run_once
from bwai_payments.refunds import service
from bwai_payments.refunds.models import (
    ConfirmRefundRequest,
    CreateRefundRequest,
    RefundList,
    RefundOut,
    VerifyRefundRequest,
)

router = APIRouter(tags=["refunds"])
OperatorDep = Annotated[Principal, Depends(require_roles("operator"))]
PaymentRefundApproval = Annotated[
    StepUpApproval, Depends(require_step_up("refund", target_param="payment_id"))
]
RefundApproval = Annotated[
    StepUpApproval, Depends(require_step_up("refund", target_param="refund_id"))
]


@router.post("/v1/payments/{payment_id}/refunds", status_code=201, response_model=RefundOut)
async def create_refund(
    request: Request,
    payment_id: UUID,
    body: CreateRefundRequest,
    operator: OperatorDep,
    _: PaymentRefundApproval,
    meta: RequestMetaDep,
    key: IdempotencyKeyHeader,
) -> Response:
    """Refund part or all of a payment in its pay currency; needs an Idempotency-Key.

    A repeat with the same key replays the first response and never adds a refund.
    """
    ctx = _ctx(request)
    idempotency_key = require_key(key)
    raw = await request.body()
    actor = OperatorRequest(operator, meta)
    return await run_once(
        ctx.pool,
        ctx.clock,
        scope=f"refunds:{payment_id}",
        key=idempotency_key,
        fingerprint=fingerprint("POST", request.url.path, raw),
        work=lambda completion: service.create_refund(
            ctx, payment_id, body, actor, idempotency_key, completion
        ),
    )


@router.get("/v1/payments/{payment_id}/refunds", response_model=RefundList)
async def list_refunds(request: Request, payment_id: UUID, caller: Reader) -> RefundList:
    items = await service.list_refunds(_ctx(request), payment_id, visible_tenant(caller))
    return RefundList(items=items)


@router.get("/v1/refunds/{refund_id}", response_model=RefundOut)
async def get_refund(request: Request, refund_id: UUID, caller: Reader) -> RefundOut:
    return await service.get_refund(_ctx(request), refund_id, visible_tenant(caller))


@router.post("/v1/refunds/{refund_id}/verify", response_model=RefundOut)
async def verify_refund(
    request: Request,
    refund_id: UUID,
    body: VerifyRefundRequest,
    operator: OperatorDep,
    _: RefundApproval,
    meta: RequestMetaDep,
) -> RefundOut:
    """Send the provider account's 2FA code for a payout that waits for it."""
    actor = OperatorRequest(operator, meta)
    return await service.verify_refund(_ctx(request), refund_id, body.verification_code, actor)


@router.post("/v1/refunds/{refund_id}/confirm", response_model=RefundOut)
async def confirm_refund(
    request: Request,
    refund_id: UUID,
    body: ConfirmRefundRequest,
    operator: OperatorDep,
    _: RefundApproval,
    meta: RequestMetaDep,
) -> RefundOut:
    """Confirm a refund made in the provider's dashboard (Coinbase Commerce) as sent or failed."""
    actor = OperatorRequest(operator, meta)
    return await service.confirm_refund(_ctx(request), refund_id, body, actor)


def _ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx
