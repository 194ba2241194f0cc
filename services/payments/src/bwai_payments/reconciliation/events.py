"""The events reconciliation publishes through the outbox (schemas in bwai_contracts, v1).

- payments.reconciliation.completed: in the transaction that stores a completed run.
- payments.reconciliation.alert_raised: in the same transaction, once per breach, when the
  mismatch rate of the last 24 hours first rises above the threshold.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from bwai_core.clock import Clock
from bwai_messaging.envelope import Event, new_event

from bwai_payments.events import SOURCE
from bwai_payments.reconciliation.models import OUTCOMES, format_rate

RECONCILIATION_COMPLETED = "payments.reconciliation.completed"
ALERT_RAISED = "payments.reconciliation.alert_raised"


def reconciliation_completed(run: asyncpg.Record, clock: Clock) -> Event:
    data = {
        "run_id": str(run["id"]),
        "provider": run["provider"],
        "day": run["day"].isoformat(),
        "version": run["version"],
        "source": run["source"],
        "total": run["total"],
        "counts": {outcome: run[outcome] for outcome in OUTCOMES},
        "mismatch_rate": format_rate(run["mismatch_rate"]),
        "foreign_records": run["foreign_records"],
        "started_at": iso(run["started_at"]),
        "completed_at": iso(run["completed_at"]),
    }
    return new_event(
        RECONCILIATION_COMPLETED, data, source=SOURCE, clock=clock, subject=data["run_id"]
    )


def alert_raised(
    alert_id: UUID,
    *,
    rate: Decimal,
    threshold: Decimal,
    window: tuple[datetime, datetime],
    totals: tuple[int, int],
    run_ids: list[UUID],
    clock: Clock,
) -> Event:
    data: dict[str, Any] = {
        "alert_id": str(alert_id),
        "severity": "high",
        "mismatch_rate": format_rate(rate),
        "threshold": format_rate(threshold),
        "window_start": iso(window[0]),
        "window_end": iso(window[1]),
        "total": totals[0],
        "mismatched": totals[1],
        "run_ids": [str(run_id) for run_id in run_ids],
        "raised_at": iso(clock.now()),
    }
    return new_event(ALERT_RAISED, data, source=SOURCE, clock=clock, subject=data["alert_id"])


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
