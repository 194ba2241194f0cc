"""Refund events, published through the outbox (schemas in bwai_contracts, version 1).

- payments.refund.requested: an operator requested the refund.
- payments.refund.submitted: the provider accepted the payout (verified where it needs a code).
- payments.refund.completed: the money left (payout finished, or an operator confirmed it).
- payments.refund.failed: the provider rejected or failed the payout, or an operator said so.
"""

from __future__ import annotations

import asyncpg
from bwai_core.clock import Clock
from bwai_messaging.envelope import Event, new_event

from bwai_payments.events import SOURCE
from bwai_payments.money import format_crypto

STATUS_EVENTS = {
    "requested": "payments.refund.requested",
    "submitted": "payments.refund.submitted",
    "completed": "payments.refund.completed",
    "failed": "payments.refund.failed",
}


def refund_event(refund: asyncpg.Record, clock: Clock, causation: Event | None = None) -> Event:
    """Build the event of the refund's current status."""
    data = {
        "refund_id": str(refund["id"]),
        "payment_id": str(refund["payment_id"]),
        "order_id": str(refund["order_id"]),
        "tenant_id": refund["tenant_id"],
        "provider": refund["provider"],
        "method": refund["method"],
        "status": refund["status"],
        "amount": format_crypto(refund["amount"]),
        "currency": refund["currency"],
        "partially_paid": refund["partially_paid"],
        "provider_reference": refund["provider_reference"],
        "provider_payout_id": refund["provider_payout_id"],
        "failure_reason": refund["failure_reason"],
        "occurred_at": _iso(refund["updated_at"]),
    }
    return new_event(
        STATUS_EVENTS[refund["status"]],
        data,
        source=SOURCE,
        clock=clock,
        subject=data["refund_id"],
        tenant_id=data["tenant_id"],
        causation=causation,
    )


def _iso(value: object) -> str:
    return str(value.isoformat()).replace("+00:00", "Z")  # type: ignore[attr-defined]
