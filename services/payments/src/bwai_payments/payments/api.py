"""HTTP endpoints for payments: start one on an order, read one back."""

from __future__ import annotations

from uuid import UUID

from bwai_telemetry.metrics import timed_payment_initiation
from bwai_web.auth import Principal
from bwai_web.idempotency import IdempotencyKeyHeader, fingerprint
from bwai_web.service import ServiceContext
from fastapi import APIRouter, Request
from starlette.responses import Response

from bwai_payments.access import Caller, Reader, visible_tenant
from bwai_payments.audit.dependencies import RequestMetaDep
from bwai_payments.audit.service import audit_on_complete
from bwai_payments.errors import OrderNotFound
from bwai_payments.idempotent import require_key, run_once_after_read
from bwai_payments.payments import repository, service
from bwai_payments.payments.models import InitiatePaymentRequest, PaymentOut

router = APIRouter(tags=["payments"])


def _ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


@router.post("/v1/orders/{order_id}/payments", status_code=201, response_model=PaymentOut)
async def initiate_payment(
    request: Request,
    order_id: UUID,
    body: InitiatePaymentRequest,
    caller: Caller,
    key: IdempotencyKeyHeader,
    meta: RequestMetaDep,
) -> Response:
    """Start a payment with a provider. Requires an Idempotency-Key; a repeat replays the first
    response and never creates a second provider checkout."""
    ctx = _ctx(request)
    idempotency_key = require_key(key)
    tenant_id = await _order_tenant(ctx, caller, order_id)
    raw = await request.body()
    with timed_payment_initiation(body.provider):
        return await run_once_after_read(
            ctx.pool,
            ctx.clock,
            scope=tenant_id,
            key=idempotency_key,
            fingerprint=fingerprint("POST", request.url.path, raw),
            read_sql=repository.PAYABLE_ORDER_SQL,
            read_args=(order_id, tenant_id),
            work=lambda order, completion: service.initiate_payment(
                ctx, order_id, order, body, completion
            ),
            on_complete=audit_on_complete(caller, meta, "payment.initiated", "payment"),
        )


@router.get("/v1/payments/{payment_id}", response_model=PaymentOut)
async def get_payment(request: Request, payment_id: UUID, caller: Reader) -> PaymentOut:
    return await service.get_payment(_ctx(request), payment_id, visible_tenant(caller))


async def _order_tenant(ctx: ServiceContext, caller: Principal, order_id: UUID) -> str:
    # Keys are scoped by tenant. A tenant's scope is its own; an operator's request is scoped
    # by the order's tenant, which costs one read but only for operators.
    own = visible_tenant(caller)
    if own is not None:
        return own
    tenant = await repository.order_tenant(ctx.pool, order_id)
    if tenant is None:
        raise OrderNotFound(f"order {order_id} not found")
    return tenant
