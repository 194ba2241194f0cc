"""Apply a verified provider event to its payment, the ledger and the order, exactly once.

Runs inside the consumer's transaction, after the inbox row for the event was inserted. The
payment and its order are locked first, so events of one order apply one at a time whatever the
number of consumers, and each step reads state no other transaction can change before commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_messaging.envelope import Event
from bwai_messaging.errors import RejectEvent, RetryLater
from bwai_messaging.outbox import enqueue
from bwai_messaging.schemas import SchemaRegistry
from bwai_telemetry.payments import span_in_stored_trace

from bwai_payments import events
from bwai_payments.ledger import repository as ledger
from bwai_payments.money import format_crypto
from bwai_payments.payments.settlement import (
    Deposit,
    DepositChange,
    Incoming,
    PaymentSummary,
    PaymentTotals,
    advance_deposit,
    order_status,
    summarise_payment,
)
from bwai_payments.payments.state_machine import (
    CoinbasePaidAt,
    PaymentStatus,
    UnknownProviderStatus,
)
from bwai_payments.provider_events import repository
from bwai_payments.provider_events.models import ProviderEvent

log = structlog.get_logger()

# Fiat values in the ledger keep 18 decimal places, the scale of the NUMERIC columns.
FIAT_SCALE = Decimal("1e-18")


@dataclass(frozen=True, slots=True)
class ApplyContext:
    pool: asyncpg.Pool
    clock: Clock
    schemas: SchemaRegistry
    coinbase_paid_at: CoinbasePaidAt


async def apply_provider_event(conn: asyncpg.Connection, event: Event, deps: ApplyContext) -> None:
    """Apply one webhooks.provider_event.received event.

    Raises RetryLater when the event carries our reference but its payment is not recorded yet
    (parked: the bus retries with back-off, then dead-letters it with the reason), and
    RejectEvent for a provider status no table maps. An event that is not ours is stored in
    foreign_provider_events and acknowledged.
    """
    incoming = ProviderEvent.from_data(event.data)
    payment = await repository.lock_payment(
        conn,
        incoming.provider,
        incoming.checkout_id,
        incoming.provider_payment_id,
        incoming.reference_uuid(),
    )
    if payment is None:
        await _unmatched(conn, event, incoming, deps)
        return

    # The webhook has its own trace; its effect (ledger entry, status event) joins the trace of
    # the payment's initiation, with a link back to the webhook's.
    try:
        with span_in_stored_trace(
            "payments.provider_event.apply",
            payment["trace_context"],
            {"bwai.payment_id": str(payment["id"]), "bwai.provider": incoming.provider},
        ):
            await _apply(conn, event, incoming, payment, deps)
    except UnknownProviderStatus as exc:
        raise RejectEvent(str(exc)) from exc
    await repository.unpark(conn, event.id)


async def _unmatched(
    conn: asyncpg.Connection, event: Event, incoming: ProviderEvent, deps: ApplyContext
) -> None:
    now = deps.clock.now()
    if incoming.reference_uuid() is None:
        await repository.store_foreign(
            conn,
            provider=incoming.provider,
            provider_event_id=incoming.provider_event_id,
            event_id=event.id,
            reason="reference is not ours",
            data=event.data,
            now=now,
        )
        log.info(
            "provider_event.foreign",
            provider=incoming.provider,
            provider_event_id=incoming.provider_event_id,
        )
        return
    reason = (
        f"no payment matches {incoming.provider} checkout {incoming.checkout_id} or reference "
        f"{incoming.merchant_reference}; waiting for the payment to be recorded"
    )
    await repository.park(
        deps.pool,
        event_id=event.id,
        provider=incoming.provider,
        provider_event_id=incoming.provider_event_id,
        reason=reason,
        data=event.data,
        now=now,
    )
    log.info(
        "provider_event.parked",
        provider=incoming.provider,
        provider_event_id=incoming.provider_event_id,
    )
    raise RetryLater(reason)


async def _apply(
    conn: asyncpg.Connection,
    event: Event,
    incoming: ProviderEvent,
    payment: asyncpg.Record,
    deps: ApplyContext,
) -> None:
    now = deps.clock.now()
    deposits = [_deposit(row) for row in await repository.deposits_of(conn, payment["id"])]
    current = next(
        (d for d in deposits if d.provider_payment_id == incoming.provider_payment_id), None
    )
    change = advance_deposit(current, _incoming(incoming), coinbase_paid_at=deps.coinbase_paid_at)
    if change.after != current:
        await repository.save_deposit(conn, _deposit_row(change.after, payment["id"]), now)

    before = _summary(payment)
    after = summarise_payment(before, deposits, change, payment["order_status"])
    if change.paid_delta > 0:
        await _post(conn, payment, change, after, incoming, now)
    if after != before:
        await repository.update_payment(conn, payment["id"], _summary_row(after), now)

    new_order_status = await _order_status(conn, payment, after)
    if new_order_status != payment["order_status"]:
        await repository.set_order_status(conn, payment["order_id"], new_order_status, now)
    if after != before or new_order_status != payment["order_status"]:
        data = _status_changed(payment, before, after, new_order_status, change, incoming)
        await enqueue(
            conn, events.payment_status_changed(data, deps.clock, event), schemas=deps.schemas
        )
    log.info(
        "payment.event.applied",
        payment_id=str(payment["id"]),
        status=after.status,
        actually_paid=format_crypto(after.actually_paid),
        posted=str(change.paid_delta),
    )


async def _post(
    conn: asyncpg.Connection,
    payment: asyncpg.Record,
    change: DepositChange,
    after: PaymentSummary,
    incoming: ProviderEvent,
    now: Any,
) -> None:
    fiat = _fiat_value(change.paid_delta, payment["order_amount"], after.amount_due)
    await ledger.post_payment_received(
        conn,
        tenant_id=payment["tenant_id"],
        order_id=payment["order_id"],
        payment_id=payment["id"],
        provider=incoming.provider,
        provider_payment_id=change.after.provider_payment_id,
        provider_event_id=incoming.provider_event_id,
        amount=change.paid_delta,
        currency=(change.after.pay_currency or after.pay_currency or "unknown").lower(),
        fiat_amount=fiat,
        fiat_currency=payment["order_currency"],
        paid_total=change.after.actually_paid,
        occurred_at=incoming.occurred_at,
        now=now,
    )


def _fiat_value(
    amount: Decimal, order_amount: Decimal, amount_due: Decimal | None
) -> Decimal | None:
    # The checkout's own rate: the order amount bought `amount_due` of the pay currency.
    if not amount_due:
        return None
    with localcontext() as context:
        context.prec = 60
        return (amount * order_amount / amount_due).quantize(FIAT_SCALE)


async def _order_status(
    conn: asyncpg.Connection, payment: asyncpg.Record, after: PaymentSummary
) -> str:
    others = await repository.other_payments_of_order(conn, payment["order_id"], payment["id"])
    totals = [PaymentTotals(r["status"], r["outcome"], r["actually_paid"]) for r in others]
    totals.append(PaymentTotals(after.status, after.outcome, after.actually_paid))
    return order_status(payment["order_status"], totals)


def _incoming(event: ProviderEvent) -> Incoming:
    return Incoming(
        provider=event.provider,
        provider_payment_id=event.provider_payment_id,
        parent_payment_id=event.parent_payment_id,
        provider_status=event.provider_status,
        status_context=event.status_context,
        pay_currency=event.pay_currency,
        pay_amount=event.pay_amount,
        actually_paid=event.actually_paid,
    )


def _deposit(row: asyncpg.Record) -> Deposit:
    return Deposit(
        provider=row["provider"],
        provider_payment_id=row["provider_payment_id"],
        parent_payment_id=row["parent_payment_id"],
        provider_status=row["provider_status"],
        status_context=row["status_context"],
        status_rank=row["status_rank"],
        status=PaymentStatus(row["status"]),
        pay_currency=row["pay_currency"],
        pay_amount=row["pay_amount"],
        actually_paid=row["actually_paid"],
    )


def _deposit_row(deposit: Deposit, payment_id: Any) -> dict[str, Any]:
    return {
        "provider": deposit.provider,
        "provider_payment_id": deposit.provider_payment_id,
        "payment_id": payment_id,
        "parent_payment_id": deposit.parent_payment_id,
        "provider_status": deposit.provider_status,
        "status_context": deposit.status_context,
        "status_rank": deposit.status_rank,
        "status": deposit.status.value,
        "pay_currency": deposit.pay_currency,
        "pay_amount": deposit.pay_amount,
        "actually_paid": deposit.actually_paid,
    }


def _summary(row: asyncpg.Record) -> PaymentSummary:
    return PaymentSummary(
        status=PaymentStatus(row["status"]),
        status_rank=row["status_rank"],
        provider_status=row["provider_status"],
        provider_payment_id=row["provider_payment_id"],
        pay_currency=row["pay_currency"],
        amount_due=row["amount_due"],
        actually_paid=row["actually_paid"],
        outcome=row["outcome"],
        late=row["late"],
        is_active=row["is_active"],
    )


def _summary_row(summary: PaymentSummary) -> dict[str, Any]:
    return {
        "status": summary.status.value,
        "status_rank": summary.status_rank,
        "provider_status": summary.provider_status,
        "provider_payment_id": summary.provider_payment_id,
        "pay_currency": summary.pay_currency,
        "amount_due": summary.amount_due,
        "actually_paid": summary.actually_paid,
        "outcome": summary.outcome,
        "late": summary.late,
        "is_active": summary.is_active,
    }


def _status_changed(
    payment: asyncpg.Record,
    before: PaymentSummary,
    after: PaymentSummary,
    new_order_status: str,
    change: DepositChange,
    incoming: ProviderEvent,
) -> dict[str, Any]:
    return {
        "payment_id": str(payment["id"]),
        "order_id": str(payment["order_id"]),
        "tenant_id": payment["tenant_id"],
        "provider": incoming.provider,
        "provider_payment_id": incoming.provider_payment_id,
        "provider_status": after.provider_status,
        "previous_status": before.status.value,
        "status": after.status.value,
        "order_status": new_order_status,
        "pay_currency": after.pay_currency,
        "amount_due": format_crypto(after.amount_due),
        "actually_paid": format_crypto(after.actually_paid) or "0",
        "amount_posted": format_crypto(change.paid_delta) or "0",
        "outcome": after.outcome,
        "late": after.late,
        "provider_event_id": incoming.provider_event_id,
        "occurred_at": events._iso(incoming.occurred_at),
    }
