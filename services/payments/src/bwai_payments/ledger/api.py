"""HTTP endpoint for an order's ledger entries."""

from __future__ import annotations

from uuid import UUID

from bwai_web.service import ServiceContext
from fastapi import APIRouter, Request

from bwai_payments.access import Reader, visible_tenant
from bwai_payments.errors import OrderNotFound
from bwai_payments.ledger import repository
from bwai_payments.ledger.models import TransactionList, TransactionOut

router = APIRouter(tags=["ledger"])


@router.get("/v1/orders/{order_id}/transactions", response_model=TransactionList)
async def list_transactions(request: Request, order_id: UUID, caller: Reader) -> TransactionList:
    ctx: ServiceContext = request.app.state.ctx
    rows = await repository.list_for_order(ctx.pool, order_id, visible_tenant(caller))
    if rows is None:
        raise OrderNotFound(f"order {order_id} not found")
    return TransactionList(items=[TransactionOut.from_row(row) for row in rows])
