"""Recording operator actions, in the transaction of the action itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_web.auth import Principal

from bwai_payments.audit import repository
from bwai_payments.audit.models import AuditTarget, RequestMeta
from bwai_payments.idempotent import CompletionHook
from bwai_payments.reconciliation.audit import AuditHook, OperatorAction

log = structlog.get_logger()

# Records one action on the caller's connection, with the target's state before and after.
AuditCall = Callable[
    [asyncpg.Connection, Mapping[str, Any] | None, Mapping[str, Any]], Awaitable[None]
]


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


def audit_on_complete(
    principal: Principal, request_meta: RequestMeta, action: str, target_type: str
) -> CompletionHook | None:
    """Return a hook that audits a created resource when its response is stored.

    The target is the response body's `id`; None for a caller who is not an operator.
    """
    if not principal.is_operator:
        return None

    async def hook(conn: asyncpg.Connection, status: int, body: Any) -> None:
        if status >= 300 or not isinstance(body, dict):
            return
        target = AuditTarget(target_type, str(body["id"]), body.get("tenant_id"))
        await record_operator_action(conn, principal, request_meta, action, target, after=body)

    return hook


def audit_call(
    principal: Principal, request_meta: RequestMeta, action: str, target_type: str
) -> AuditCall | None:
    """Return a call that audits a change of the target whose state `after` carries the id."""
    if not principal.is_operator:
        return None

    async def call(
        conn: asyncpg.Connection, before: Mapping[str, Any] | None, after: Mapping[str, Any]
    ) -> None:
        target = AuditTarget(target_type, str(after["id"]), after.get("tenant_id"))
        await record_operator_action(
            conn, principal, request_meta, action, target, before=before, after=after
        )

    return call


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
