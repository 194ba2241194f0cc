"""What a refund may be, per provider: pure checks, and the order of refund statuses."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from bwai_payments.refunds.errors import PaymentNotRefundable, RefundAmountInvalid

# A refund moves requested -> submitted -> completed | failed and never back; the two final
# statuses share a rank, so neither replaces the other.
STATUS_RANK = {"requested": 0, "submitted": 1, "completed": 2, "failed": 2}
# Payment statuses in which money has arrived and is final at the provider.
REFUNDABLE_STATUSES = frozenset({"paid", "partially_paid", "unresolved"})
METHODS = {"nowpayments": "payout", "coinbase_commerce": "manual"}
# NOWPayments payout amounts have at most 6 decimal places (payout API documentation).
NOWPAYMENTS_PAYOUT_PLACES = 6

# NOWPayments payout status (upper case) -> our refund status. CREATING is a payout that still
# waits for its verification code, so it leaves the refund requested.
PAYOUT_STATUSES = {
    "CREATING": "requested",
    "WAITING": "requested",
    "PROCESSING": "submitted",
    "SENDING": "submitted",
    "FINISHED": "completed",
    "FAILED": "failed",
    "REJECTED": "failed",
}

_NOTES = {
    "nowpayments": (
        "NOWPayments has no refund API: this refund is a payout from the merchant account to "
        "the refund address, verified with the account's 2FA code."
    ),
    "coinbase_commerce": (
        "Coinbase Commerce refunds are made by an operator in the Commerce dashboard; confirm "
        "the refund here with the dashboard's reference once it is sent."
    ),
}
_PARTIAL_NOTES = {
    "nowpayments": (
        " The payment is partially paid: NOWPayments treats it as completed and does not refund "
        "it, so at most the amount actually received is paid out by the merchant."
    ),
    "coinbase_commerce": (
        " The charge is underpaid: it is refunded from the charge's page in the dashboard, at "
        "most the amount actually received."
    ),
}


def check_refundable(payment: asyncpg.Record, amount: Decimal) -> None:
    """Raise PaymentNotRefundable or RefundAmountInvalid for a refund the rules do not allow.

    The total against what was paid is checked by the database (refund_allowances).
    """
    if payment["status"] not in REFUNDABLE_STATUSES or payment["actually_paid"] <= 0:
        raise PaymentNotRefundable(
            f"payment {payment['id']} is {payment['status']}: only a paid, partially paid or "
            "unresolved payment that received money can be refunded"
        )
    if payment["pay_currency"] is None:
        raise PaymentNotRefundable(f"payment {payment['id']} has no known pay currency")
    places = -amount.normalize().as_tuple().exponent  # type: ignore[operator]
    if payment["provider"] == "nowpayments" and places > NOWPAYMENTS_PAYOUT_PLACES:
        raise RefundAmountInvalid(
            f"NOWPayments payouts take at most {NOWPAYMENTS_PAYOUT_PLACES} decimal places; "
            f"round {amount} to {NOWPAYMENTS_PAYOUT_PLACES} places"
        )


def provider_note(provider: str, partially_paid: bool) -> str:
    return _NOTES[provider] + (_PARTIAL_NOTES[provider] if partially_paid else "")


def is_partially_paid(payment: asyncpg.Record) -> bool:
    due = payment["amount_due"]
    return payment["status"] == "partially_paid" or (
        due is not None and payment["actually_paid"] < due
    )
