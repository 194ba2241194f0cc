"""Keep what each provider event reports beyond the state machine: status time and settlement.

The state machine keeps a deposit's status and amount actually paid, but not the provider's
time of the last status change (which UTC day the payment is reconciled on) nor the settled
outcome amount. `with_provider_state` wraps the provider event handler so both are saved in the
same transaction as the event is applied.
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from bwai_core.clock import Clock
from bwai_messaging.consumer import EventHandler
from bwai_messaging.envelope import Event

from bwai_payments.provider_events.models import ProviderEvent
from bwai_payments.reconciliation import repository
from bwai_payments.reconciliation.fetch import is_our_reference


def with_provider_state(handler: EventHandler, clock: Clock) -> EventHandler:
    """Return a handler that applies the event with `handler`, then saves its provider state."""

    async def handle(conn: asyncpg.Connection, event: Event) -> None:
        await handler(conn, event)
        await save_provider_state(conn, event, clock)

    return handle


async def save_provider_state(conn: asyncpg.Connection, event: Event, clock: Clock) -> None:
    incoming = ProviderEvent.from_data(event.data)
    # Events of other integrations on the same provider account are not reconciled.
    if not is_our_reference(incoming.merchant_reference):
        return
    changed_at = incoming.occurred_at or event.time
    await repository.save_provider_state(
        conn,
        provider=incoming.provider,
        provider_payment_id=incoming.provider_payment_id,
        status_changed_at=changed_at,
        outcome_amount=_amount(event.data.get("outcome_amount")),
        outcome_currency=event.data.get("outcome_currency"),
        provider_event_id=incoming.provider_event_id,
        now=clock.now(),
    )


def _amount(value: object) -> Decimal | None:
    # The event schema carries amounts as decimal strings; Decimal(str) keeps every digit.
    return Decimal(str(value)) if value is not None else None
