"""The payment state machine: provider statuses mapped to ours, ranked so nothing moves backwards.

Each provider payment (a NOWPayments deposit, a Coinbase charge) keeps the highest-ranked provider
status it has reported and the largest amount actually paid. A checkout's status is then the most
settled status among its deposits, so a late `failed` for one deposit never hides another
deposit's success. docs/payments/state-machine.md shows the same tables for readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

CoinbasePaidAt = Literal["pending", "completed"]


class PaymentStatus(StrEnum):
    PENDING = "pending"
    CONFIRMING = "confirming"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    UNRESOLVED = "unresolved"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"


S = PaymentStatus

# Statuses in which a checkout can still take money as planned; one such checkout per order.
ACTIVE_STATUSES = frozenset({S.PENDING, S.CONFIRMING})
# Statuses in which a checkout ended without money; money arriving afterwards is a late payment.
ENDED_UNPAID = frozenset({S.EXPIRED, S.FAILED, S.CANCELLED})

# When a checkout has several deposits, the most settled one gives the checkout's status.
_SETTLEMENT_PREFERENCE: dict[PaymentStatus, int] = {
    S.CANCELLED: 0,
    S.FAILED: 1,
    S.EXPIRED: 2,
    S.PENDING: 3,
    S.CONFIRMING: 4,
    S.UNRESOLVED: 5,
    S.PARTIALLY_PAID: 6,
    S.REFUNDED: 7,
    S.REFUND_PENDING: 8,
    S.PAID: 9,
}

# NOWPayments payment_status -> (rank, our status). Waiting < confirming < confirmed < sending <
# final statuses. Among the final ones money wins: a deposit that expired or failed may still
# end partially_paid or finished, but a finished one never goes back to failed.
_NOWPAYMENTS: dict[str, tuple[int, PaymentStatus]] = {
    "waiting": (0, S.PENDING),
    "confirming": (1, S.CONFIRMING),
    "confirmed": (2, S.CONFIRMING),
    "sending": (3, S.CONFIRMING),
    "expired": (4, S.EXPIRED),
    "failed": (4, S.FAILED),
    "partially_paid": (5, S.PARTIALLY_PAID),
    "finished": (6, S.PAID),
    "refunded": (7, S.REFUNDED),
}

# Coinbase Commerce timeline status -> rank. Legacy and onchain (SIGNED, FAILED) statuses share
# one order. PENDING and UNRESOLVED are mapped by `_coinbase_status` because they depend on the
# paid-at setting and on the timeline context.
_COINBASE_RANK: dict[str, int] = {
    "NEW": 0,
    "SIGNED": 1,
    "PENDING": 2,
    "EXPIRED": 3,
    "CANCELED": 3,
    "FAILED": 3,
    "UNRESOLVED": 4,
    "COMPLETED": 5,
    "RESOLVED": 6,
    "REFUND PENDING": 7,
    "REFUNDED": 8,
}

_COINBASE_FIXED: dict[str, PaymentStatus] = {
    "NEW": S.PENDING,
    "SIGNED": S.PENDING,
    "EXPIRED": S.EXPIRED,
    "CANCELED": S.CANCELLED,
    "FAILED": S.FAILED,
    "COMPLETED": S.PAID,
    # A merchant resolves an unresolved charge by accepting the money.
    "RESOLVED": S.PAID,
    "REFUND PENDING": S.REFUND_PENDING,
    "REFUNDED": S.REFUNDED,
}


class UnknownProviderStatus(ValueError):
    """A provider status that no table row maps; the event cannot be applied."""


@dataclass(frozen=True, slots=True)
class DepositStatus:
    """A provider status mapped to its rank and our status."""

    rank: int
    status: PaymentStatus
    # True when the provider reports that the money came after expiry (Coinbase DELAYED).
    late: bool = False


def deposit_status(
    provider: str,
    provider_status: str,
    context: str | None,
    *,
    coinbase_paid_at: CoinbasePaidAt,
    actually_paid: Decimal,
    amount_due: Decimal | None,
) -> DepositStatus:
    """Map a provider status (and Coinbase context) to its rank and our status."""
    if provider == "nowpayments":
        rule = _NOWPAYMENTS.get(provider_status.lower())
        if rule is None:
            raise UnknownProviderStatus(f"unknown NOWPayments status {provider_status!r}")
        return DepositStatus(rule[0], rule[1])
    if provider == "coinbase_commerce":
        return _coinbase_status(
            provider_status.upper(), context, coinbase_paid_at, actually_paid, amount_due
        )
    raise UnknownProviderStatus(f"unknown provider {provider!r}")


def _coinbase_status(
    status: str,
    context: str | None,
    paid_at: CoinbasePaidAt,
    actually_paid: Decimal,
    amount_due: Decimal | None,
) -> DepositStatus:
    rank = _COINBASE_RANK.get(status)
    if rank is None:
        raise UnknownProviderStatus(f"unknown Coinbase Commerce status {status!r}")
    if status == "PENDING":
        return DepositStatus(rank, S.PAID if paid_at == "pending" else S.CONFIRMING)
    if status != "UNRESOLVED":
        return DepositStatus(rank, _COINBASE_FIXED[status])

    context = (context or "").upper()
    if context == "UNDERPAID":
        return DepositStatus(rank, S.PARTIALLY_PAID)
    if context == "OVERPAID":
        return DepositStatus(rank, S.PAID)
    if context in {"DELAYED", "MULTIPLE"}:
        return DepositStatus(
            rank, _status_by_amount(actually_paid, amount_due), context == "DELAYED"
        )
    # OTHER, MANUAL or no context: a person has to look at the charge.
    return DepositStatus(rank, S.UNRESOLVED)


def _status_by_amount(actually_paid: Decimal, amount_due: Decimal | None) -> PaymentStatus:
    if amount_due is None or actually_paid <= 0:
        return S.UNRESOLVED
    return S.PAID if actually_paid >= amount_due else S.PARTIALLY_PAID


def checkout_status(deposit_statuses: list[PaymentStatus]) -> PaymentStatus:
    """Return the most settled status among a checkout's deposits (pending when it has none)."""
    if not deposit_statuses:
        return S.PENDING
    return max(deposit_statuses, key=settlement_preference)


def settlement_preference(status: PaymentStatus) -> int:
    """Return how settled a status is; the highest among deposits gives the checkout status."""
    return _SETTLEMENT_PREFERENCE[status]


def payment_outcome(actually_paid: Decimal, amount_due: Decimal | None) -> str | None:
    """Classify the money received against the amount due, once both are known."""
    if amount_due is None or actually_paid <= 0:
        return None
    if actually_paid < amount_due:
        return "underpaid"
    if actually_paid > amount_due:
        return "overpaid"
    return "exact"


def is_active(status: PaymentStatus) -> bool:
    return status in ACTIVE_STATUSES
