"""Bus handlers of the payments queue."""

from __future__ import annotations

import asyncpg
from bwai_messaging.consumer import EventHandler
from bwai_messaging.envelope import Event
from bwai_web.service import ServiceContext

from bwai_payments.provider_events.service import ApplyContext, apply_provider_event
from bwai_payments.settings import PaymentsSettings

PROVIDER_EVENT_RECEIVED = "webhooks.provider_event.received"


def provider_event_handler(ctx: ServiceContext) -> EventHandler:
    """Return the handler of webhooks.provider_event.received, bound to the service context."""
    settings = ctx.settings
    paid_at = settings.coinbase_paid_at if isinstance(settings, PaymentsSettings) else "completed"
    deps = ApplyContext(ctx.pool, ctx.clock, ctx.schemas, paid_at)

    async def handle(conn: asyncpg.Connection, event: Event) -> None:
        await apply_provider_event(conn, event, deps)

    return handle
