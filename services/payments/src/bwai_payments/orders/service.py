"""Order logic: create (once per Idempotency-Key), read, list and cancel."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from bwai_core.db import transaction
from bwai_core.ids import new_id
from bwai_messaging.outbox import enqueue
from bwai_web.service import ServiceContext
from starlette.responses import Response

from bwai_payments import events
from bwai_payments.audit.service import AuditCall
from bwai_payments.errors import OrderNotCancellable, OrderNotFound
from bwai_payments.idempotent import Completion
from bwai_payments.orders import repository
from bwai_payments.orders.models import CreateOrderRequest, OrderOut, OrderPage


async def create_order(
    ctx: ServiceContext, request: CreateOrderRequest, tenant_id: str, completion: Completion
) -> Response:
    """Insert the order, enqueue payments.order.created and store the response, in one commit."""
    now = ctx.clock.now()
    async with transaction(ctx.pool) as conn:
        row = await repository.insert_order(
            conn,
            order_id=new_id(),
            tenant_id=tenant_id,
            amount=request.decimal_amount(),
            currency=request.currency,
            description=request.description,
            metadata=request.metadata,
            success_url=_url(request.success_url),
            cancel_url=_url(request.cancel_url),
            now=now,
        )
        body = OrderOut.from_row(row).model_dump(mode="json")
        await enqueue(
            conn,
            events.order_created(OrderOut.from_row(row).model_dump(), ctx.clock),
            schemas=ctx.schemas,
        )
        return await completion.complete(conn, 201, body, {"Location": f"/v1/orders/{row['id']}"})


async def get_order(ctx: ServiceContext, order_id: UUID, tenant_id: str | None) -> OrderOut:
    row = await repository.get_order(ctx.pool, order_id, tenant_id)
    if row is None:
        raise OrderNotFound(f"order {order_id} not found")
    return OrderOut.from_row(row)


async def list_orders(
    ctx: ServiceContext,
    *,
    tenant_id: str | None,
    status: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    cursor: UUID | None,
    limit: int,
) -> OrderPage:
    # Reading one extra row shows whether another page follows, without a count query.
    rows = await repository.list_orders(
        ctx.pool,
        tenant_id=tenant_id,
        status=status,
        created_from=created_from,
        created_to=created_to,
        cursor=cursor,
        limit=limit + 1,
    )
    items = [OrderOut.from_row(row) for row in rows[:limit]]
    next_cursor = items[-1].id if len(rows) > limit else None
    return OrderPage(items=items, next_cursor=next_cursor)


async def cancel_order(
    ctx: ServiceContext, order_id: UUID, tenant_id: str | None, audit: AuditCall | None = None
) -> OrderOut:
    """Cancel an open order. Cancelling a cancelled order returns it unchanged.

    `audit` records the cancellation in its transaction (operator requests).
    """
    async with transaction(ctx.pool) as conn:
        row = await repository.cancel_open_order(conn, order_id, tenant_id, ctx.clock.now())
        if row is not None:
            order = OrderOut.from_row(row)
            if audit is not None:
                await audit(conn, {"status": "open"}, order.model_dump(mode="json"))
            return order
        current = await repository.get_order(conn, order_id, tenant_id)
    if current is None:
        raise OrderNotFound(f"order {order_id} not found")
    if current["status"] != "cancelled":
        raise OrderNotCancellable(
            f"order {order_id} is {current['status']}; only an open order can be cancelled"
        )
    return OrderOut.from_row(current)


def _url(value: object | None) -> str | None:
    return None if value is None else str(value)
