"""Recording operator actions, in the transaction of the action itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_web.auth import Principal

from bwai_payments.audit import repository
from bwai_payments.audit.models import AuditTarget, RequestMeta
from bwai_payments.reconciliation.audit import AuditHook, OperatorAction

log = structlog.get_logger()


async def record_operator_action(
    conn: asyncpg.Connection,
    principal: Principal,
    request_meta: RequestMeta,
    action: str,
    target: AuditTarget,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> UUID | None:
    """Append an audit row when `principal` is an operator; return its id, or None otherwise.

    Call it on the connection of the action's own transaction, so the row commits or rolls
    back with the action. `before` and `after` are the target's state around the action.
    """
    if not principal.is_operator:
        return None
    entry_id = await repository.insert_entry(
        conn,
        actor=principal.subject,
        action=action,
        target=target,
        meta=request_meta,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
    )
    log.info(
        "operator_audit.recorded",
        audit_id=str(entry_id),
        actor=principal.subject,
        action=action,
        target_type=target.type,
        target_id=target.id,
    )
    return entry_id


def reconciliation_audit_hook(clock: Clock) -> AuditHook:
    """Return the hook through which reconciliation's operator actions reach the audit."""

    async def hook(conn: asyncpg.Connection, action: OperatorAction) -> None:
        request = action.request
        meta = RequestMeta(
            at=clock.now(),
            client_address=request.get("client_address"),
            user_agent=request.get("user_agent"),
            correlation_id=request.get("correlation_id"),
            request_id=request.get("request_id"),
            idempotency_key=request.get("idempotency_key"),
        )
        await repository.insert_entry(
            conn,
            actor=action.actor,
            action=action.action,
            target=AuditTarget(action.target_type, action.target_id),
            meta=meta,
            before=action.before,
            after=action.after,
        )

    return hook
