"""HTTP endpoints for orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from bwai_web.idempotency import IdempotencyKeyHeader, fingerprint
from bwai_web.service import ServiceContext
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from bwai_payments.access import Caller, Reader, acting_tenant, visible_tenant
from bwai_payments.audit.dependencies import RequestMetaDep
from bwai_payments.audit.service import audit_call, audit_on_complete
from bwai_payments.idempotent import require_key, run_once
from bwai_payments.orders import service
from bwai_payments.orders.models import CreateOrderRequest, OrderOut, OrderPage, OrderStatus

router = APIRouter(prefix="/v1/orders", tags=["orders"])


def _ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


@router.post("", status_code=201, response_model=OrderOut)
async def create_order(
    request: Request,
    body: CreateOrderRequest,
    caller: Caller,
    key: IdempotencyKeyHeader,
    meta: RequestMetaDep,
) -> Response:
    """Create an order. Requires an Idempotency-Key; a repeat replays the first response."""
    ctx = _ctx(request)
    tenant_id = acting_tenant(caller, body.tenant)
    raw = await request.body()
    return await run_once(
        ctx.pool,
        ctx.clock,
        scope=tenant_id,
        key=require_key(key),
        fingerprint=fingerprint("POST", request.url.path, raw),
        work=lambda completion: service.create_order(ctx, body, tenant_id, completion),
        on_complete=audit_on_complete(caller, meta, "order.created", "order"),
    )


@router.get("/{order_id}", response_model=OrderOut)
async def get_order(request: Request, order_id: UUID, caller: Reader) -> OrderOut:
    return await service.get_order(_ctx(request), order_id, visible_tenant(caller))


@router.get("", response_model=OrderPage)
async def list_orders(
    request: Request,
    caller: Reader,
    status: OrderStatus | None = None,
    created_from: datetime | None = None,
    created_to: Annotated[datetime | None, Query(description="exclusive upper bound")] = None,
    cursor: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    tenant: Annotated[str | None, Query(description="operators only: one tenant")] = None,
) -> OrderPage:
    tenant_id = visible_tenant(caller) or tenant
    return await service.list_orders(
        _ctx(request),
        tenant_id=tenant_id,
        status=status,
        created_from=created_from,
        created_to=created_to,
        cursor=cursor,
        limit=limit,
    )


@router.post("/{order_id}/cancel", response_model=OrderOut)
async def cancel_order(
    request: Request, order_id: UUID, caller: Caller, meta: RequestMetaDep
) -> OrderOut:
    audit = audit_call(caller, meta, "order.cancelled", "order")
    return await service.cancel_order(_ctx(request), order_id, visible_tenant(caller), audit)
