"""`GET /v1/audit`: the operator audit, newest first, for operators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from bwai_web.auth import Principal, require_roles
from bwai_web.service import ServiceContext
from fastapi import APIRouter, Depends, Query, Request

from bwai_payments.audit import repository
from bwai_payments.audit.models import AuditEntryOut, AuditPage

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Operator = Annotated[Principal, Depends(require_roles("operator"))]


@router.get("", response_model=AuditPage)
async def list_audit(
    request: Request,
    _: Operator,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    occurred_from: datetime | None = None,
    occurred_to: Annotated[datetime | None, Query(description="exclusive upper bound")] = None,
    cursor: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    ctx: ServiceContext = request.app.state.ctx
    # One extra row shows whether another page follows, without a count query.
    rows = await repository.list_entries(
        ctx.pool,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        cursor=cursor,
        limit=limit + 1,
    )
    items = [AuditEntryOut.from_row(row) for row in rows[:limit]]
    next_cursor = items[-1].id if len(rows) > limit else None
    return AuditPage(items=items, next_cursor=next_cursor)
