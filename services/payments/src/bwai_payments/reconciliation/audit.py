"""The seam where operator actions on reconciliation reach the operator audit.

The payments service installs a hook in `ServiceContext.extras[AUDIT_HOOK_KEY]`; until one is
installed, operator actions are only logged. The hook runs in the action's own transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

AUDIT_HOOK_KEY = "payments.operator_audit"


@dataclass(frozen=True, slots=True)
class OperatorAction:
    actor: str
    # "reconciliation.run.requested", "reconciliation.import.uploaded",
    # "reconciliation.record.resolved"
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    # Client address, user agent, correlation id and idempotency key of the request.
    request: dict[str, Any] = field(default_factory=dict)


AuditHook = Callable[[asyncpg.Connection, OperatorAction], Awaitable[None]]
