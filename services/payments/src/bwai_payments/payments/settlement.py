"""Pure settlement steps: advance one deposit, summarise a checkout, derive the order status.

Kept free of I/O so that the state machine's tests run every transition directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from bwai_payments.payments.state_machine import (
    ENDED_UNPAID,
    CoinbasePaidAt,
    PaymentStatus,
    checkout_status,
    deposit_status,
    is_active,
    payment_outcome,
    settlement_preference,
)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Deposit:
    """One provider payment under a checkout, as stored in provider_deposits."""

    provider: str
    provider_payment_id: str
    parent_payment_id: str | None
    provider_status: str
    status_context: str | None
    status_rank: int
    status: PaymentStatus
    pay_currency: str | None
    pay_amount: Decimal | None
    actually_paid: Decimal


@dataclass(frozen=True, slots=True)
class Incoming:
    """The parts of a provider event the state machine reads."""

    provider: str
    provider_payment_id: str
    parent_payment_id: str | None
    provider_status: str | None
    status_context: str | None
    pay_currency: str | None
    pay_amount: Decimal | None
    actually_paid: Decimal | None


@dataclass(frozen=True, slots=True)
class DepositChange:
    before: Deposit | None
    after: Deposit
    # Increase of the deposit's total actually paid; the amount to post to the ledger.
    paid_delta: Decimal
    # The provider marked the money as late (Coinbase DELAYED).
    provider_marked_late: bool


def advance_deposit(
    current: Deposit | None, incoming: Incoming, *, coinbase_paid_at: CoinbasePaidAt
) -> DepositChange:
    """Apply one event to a deposit: the status only moves up in rank, the amount only grows.

    An event of the same rank replaces the status only when it reports more money, so a
    duplicate or an older event changes nothing. Raises UnknownProviderStatus.
    """
    before_paid = current.actually_paid if current else ZERO
    paid = max(before_paid, incoming.actually_paid or ZERO)
    pay_amount = (current.pay_amount if current else None) or incoming.pay_amount

    provider_status, context = _newer_status(current, incoming, paid > before_paid)
    mapped = deposit_status(
        incoming.provider,
        provider_status,
        context,
        coinbase_paid_at=coinbase_paid_at,
        actually_paid=paid,
        amount_due=pay_amount,
    )
    after = Deposit(
        provider=incoming.provider,
        provider_payment_id=incoming.provider_payment_id,
        parent_payment_id=(current.parent_payment_id if current else None)
        or incoming.parent_payment_id,
        provider_status=provider_status,
        status_context=context,
        status_rank=mapped.rank,
        status=mapped.status,
        pay_currency=(current.pay_currency if current else None) or incoming.pay_currency,
        pay_amount=pay_amount,
        actually_paid=paid,
    )
    return DepositChange(current, after, paid - before_paid, mapped.late)


def _newer_status(
    current: Deposit | None, incoming: Incoming, more_money: bool
) -> tuple[str, str | None]:
    if incoming.provider_status is None:
        # No status in the event: keep what we have; a first event counts as created.
        if current is not None:
            return current.provider_status, current.status_context
        return ("waiting" if incoming.provider == "nowpayments" else "NEW"), None
    if current is None:
        return incoming.provider_status, incoming.status_context
    rank = _rank_of(incoming)
    if rank > current.status_rank or (rank == current.status_rank and more_money):
        return incoming.provider_status, incoming.status_context
    return current.provider_status, current.status_context


def _rank_of(incoming: Incoming) -> int:
    assert incoming.provider_status is not None
    # The rank does not depend on the paid-at choice or the amounts.
    return deposit_status(
        incoming.provider,
        incoming.provider_status,
        incoming.status_context,
        coinbase_paid_at="completed",
        actually_paid=ZERO,
        amount_due=None,
    ).rank


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    """A checkout's state derived from its deposits."""

    status: PaymentStatus
    status_rank: int
    provider_status: str | None
    provider_payment_id: str | None
    pay_currency: str | None
    amount_due: Decimal | None
    actually_paid: Decimal
    outcome: str | None
    late: bool
    is_active: bool


def summarise_payment(
    previous: PaymentSummary, deposits: Sequence[Deposit], change: DepositChange, order_status: str
) -> PaymentSummary:
    """Derive the checkout's status, totals and flags after `change` was applied."""
    deposits = [d for d in deposits if d.provider_payment_id != change.after.provider_payment_id]
    deposits.append(change.after)
    leading = max(deposits, key=lambda d: (settlement_preference(d.status), d.status_rank))
    first = next((d for d in deposits if d.parent_payment_id is None), None)

    pay_currency = previous.pay_currency or change.after.pay_currency
    # NOTE: deposits in another asset than the checkout's are left out of the total because
    # amounts in different assets cannot be added. They stay visible on the deposit rows.
    paid = sum(
        (d.actually_paid for d in deposits if _same_asset(d.pay_currency, pay_currency)), ZERO
    )
    amount_due = previous.amount_due or (first.pay_amount if first else None)
    status = checkout_status([d.status for d in deposits])
    late = previous.late or (
        change.paid_delta > 0 and _arrived_late(previous, change, order_status)
    )
    return replace(
        previous,
        status=status,
        status_rank=max(d.status_rank for d in deposits),
        provider_status=leading.provider_status,
        provider_payment_id=previous.provider_payment_id
        or (first.provider_payment_id if first else None),
        pay_currency=pay_currency,
        amount_due=amount_due,
        actually_paid=paid,
        outcome=payment_outcome(paid, amount_due),
        late=late,
        # Once inactive a checkout stays inactive, so at most one checkout per order is active.
        is_active=previous.is_active and is_active(status),
    )


def _same_asset(deposit_currency: str | None, pay_currency: str | None) -> bool:
    if deposit_currency is None or pay_currency is None:
        return True
    return deposit_currency.lower() == pay_currency.lower()


def _arrived_late(previous: PaymentSummary, change: DepositChange, order_status: str) -> bool:
    before = change.before.status if change.before else None
    return (
        change.provider_marked_late
        or previous.status in ENDED_UNPAID
        or before in ENDED_UNPAID
        or order_status == "cancelled"
    )


@dataclass(frozen=True, slots=True)
class PaymentTotals:
    status: str
    outcome: str | None
    actually_paid: Decimal


def order_status(current: str, payments: Sequence[PaymentTotals]) -> str:
    """Derive the order status from all its payments; a cancelled order stays cancelled.

    Money on a cancelled order is recorded on its payment (marked late) and in the ledger.
    """
    if current == "cancelled":
        return current
    paid = [p for p in payments if p.status == PaymentStatus.PAID]
    received = [p for p in payments if p.actually_paid > 0]
    if paid:
        extra = len(received) > len(paid) or len(paid) > 1
        if extra or any(p.outcome == "overpaid" for p in paid):
            return "overpaid"
        return "paid"
    if received:
        return "partially_paid"
    return "open"
