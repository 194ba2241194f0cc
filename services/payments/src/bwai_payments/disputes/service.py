"""Dispute logic: open and resolve, each audited in its own transaction."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import structlog
from bwai_core.db import transaction
from bwai_web.service import ServiceContext

from bwai_payments.audit.models import AuditTarget, OperatorRequest
from bwai_payments.audit.service import record_operator_action
from bwai_payments.disputes import repository
from bwai_payments.disputes.errors import (
    DisputeAlreadyOpen,
    DisputeAlreadyResolved,
    DisputeNotFound,
)
from bwai_payments.disputes.models import DisputeOut, ResolveDisputeRequest
from bwai_payments.errors import PaymentNotFound

log = structlog.get_logger()


async def open_dispute(
    ctx: ServiceContext, payment_id: UUID, reason: str, operator: OperatorRequest
) -> DisputeOut:
    """Open a dispute; raise PaymentNotFound, or DisputeAlreadyOpen when one is open."""
    try:
        async with transaction(ctx.pool) as conn:
            row = await repository.insert_open(
                conn,
                payment_id,
                reason=reason,
                opened_by=operator.principal.subject,
                now=ctx.clock.now(),
            )
            if row is None:
                raise PaymentNotFound(f"payment {payment_id} not found")
            dispute = DisputeOut.from_row(row)
            await _audit(conn, operator, "dispute.opened", None, dispute)
    except asyncpg.UniqueViolationError as exc:
        raise DisputeAlreadyOpen(
            f"payment {payment_id} already has an open dispute; resolve it first"
        ) from exc
    log.info("dispute.opened", dispute_id=str(dispute.id), payment_id=str(payment_id))
    return dispute


async def resolve_dispute(
    ctx: ServiceContext, dispute_id: UUID, request: ResolveDisputeRequest, operator: OperatorRequest
) -> DisputeOut:
    """Resolve an open dispute; raise DisputeNotFound or DisputeAlreadyResolved."""
    async with transaction(ctx.pool) as conn:
        before = await repository.get(conn, dispute_id)
        if before is None:
            raise DisputeNotFound(f"dispute {dispute_id} not found")
        row = await repository.resolve(
            conn,
            dispute_id,
            outcome=request.outcome,
            note=request.note,
            resolved_by=operator.principal.subject,
            now=ctx.clock.now(),
        )
        if row is None:
            raise DisputeAlreadyResolved(f"dispute {dispute_id} is already resolved")
        dispute = DisputeOut.from_row(row)
        await _audit(conn, operator, "dispute.resolved", DisputeOut.from_row(before), dispute)
    log.info("dispute.resolved", dispute_id=str(dispute_id), outcome=request.outcome)
    return dispute


async def get_dispute(ctx: ServiceContext, dispute_id: UUID, tenant_id: str | None) -> DisputeOut:
    row = await repository.get(ctx.pool, dispute_id, tenant_id)
    if row is None:
        raise DisputeNotFound(f"dispute {dispute_id} not found")
    return DisputeOut.from_row(row)


async def list_disputes(
    ctx: ServiceContext, payment_id: UUID, tenant_id: str | None
) -> list[DisputeOut]:
    if not await repository.payment_visible(ctx.pool, payment_id, tenant_id):
        raise PaymentNotFound(f"payment {payment_id} not found")
    rows = await repository.list_for_payment(ctx.pool, payment_id)
    return [DisputeOut.from_row(row) for row in rows]


async def _audit(
    conn: asyncpg.Connection,
    operator: OperatorRequest,
    action: str,
    before: DisputeOut | None,
    after: DisputeOut,
) -> None:
    await record_operator_action(
        conn,
        operator.principal,
        operator.meta,
        action,
        AuditTarget("dispute", str(after.id), after.tenant_id),
        before=before.model_dump(mode="json") if before is not None else None,
        after=after.model_dump(mode="json"),
    )
