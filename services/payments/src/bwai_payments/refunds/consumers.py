"""Bus handler of payout webhooks: a provider payout moves its refund."""

from __future__ import annotations

import asyncpg
import structlog
from bwai_messaging.consumer import EventHandler
from bwai_messaging.envelope import Event
from bwai_messaging.errors import RejectEvent, RetryLater
from bwai_web.service import ServiceContext

from bwai_payments.refunds import repository, rules
from bwai_payments.refunds.service import apply_payout_event

log = structlog.get_logger()

PAYOUT_EVENT_RECEIVED = "webhooks.payout_event.received"


def payout_event_handler(ctx: ServiceContext) -> EventHandler:
    """Return the handler of webhooks.payout_event.received, bound to the service context.

    Raises RejectEvent for a payout status no rule maps, and RetryLater when the payout is not
    recorded on a refund yet: its webhook can arrive before the request that created the payout
    has stored the payout id.
    """

    async def handle(conn: asyncpg.Connection, event: Event) -> None:
        data = event.data
        if data["status"] not in rules.PAYOUT_STATUSES:
            raise RejectEvent(f"unknown payout status {data['status']!r}")
        refund = await repository.refund_by_payout(
            conn, data["provider"], data["payout_id"], data.get("batch_withdrawal_id")
        )
        if refund is None:
            raise RetryLater(f"no refund has payout {data['payout_id']} yet")
        changed = await apply_payout_event(ctx, conn, event, refund)
        log.info(
            "refund.payout_event.applied",
            refund_id=str(refund["id"]),
            payout_id=data["payout_id"],
            payout_status=data["status"],
            changed=changed is not None,
        )

    return handle
