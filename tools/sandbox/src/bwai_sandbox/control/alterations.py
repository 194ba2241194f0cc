"""Change a provider record without sending a webhook, to seed reconciliation mismatches.

A real provider's record can drift from what its webhooks said (a lost IPN, a manual change in
the provider's dashboard). These changes reproduce that: the stored record changes and its last
change time moves, but no webhook is sent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from bwai_sandbox.coinbase.models import Charge
from bwai_sandbox.control.models import DECIMAL_TEXT
from bwai_sandbox.nowpayments.models import Payment
from bwai_sandbox.timefmt import iso_seconds


class NowPaymentsAlteration(BaseModel):
    payment_status: str | None = Field(default=None, min_length=1, max_length=40)
    actually_paid: str | None = Field(default=None, pattern=DECIMAL_TEXT)
    outcome_amount: str | None = Field(default=None, pattern=DECIMAL_TEXT)
    pay_currency: str | None = Field(default=None, min_length=1, max_length=20)
    # The record's new `updated_at`; omitted uses the sandbox clock.
    updated_at: datetime | None = None


class CoinbaseAlteration(BaseModel):
    # Appended to the timeline as a new entry ("COMPLETED", "EXPIRED", ...).
    status: str | None = Field(default=None, min_length=1, max_length=40)
    # New crypto amount of the charge's last payment.
    paid_amount: str | None = Field(default=None, pattern=DECIMAL_TEXT)
    # Time of the new timeline entry; omitted uses the sandbox clock.
    at: datetime | None = None


def alter_nowpayments(payment: Payment, change: NowPaymentsAlteration, now: datetime) -> None:
    if change.payment_status is not None:
        payment.status = change.payment_status
    if change.actually_paid is not None:
        payment.actually_paid = Decimal(change.actually_paid)
    if change.outcome_amount is not None:
        payment.outcome_amount = Decimal(change.outcome_amount)
    if change.pay_currency is not None:
        payment.pay_currency = change.pay_currency.lower()
    payment.updated_at = change.updated_at or now


def alter_coinbase(charge: Charge, change: CoinbaseAlteration, now: datetime) -> None:
    at = change.at or now
    if change.paid_amount is not None and charge.payments:
        crypto: dict[str, Any] = charge.payments[-1]["value"]["crypto"]
        crypto["amount"] = change.paid_amount
    if change.status is not None:
        charge.timeline.append({"time": iso_seconds(at), "status": change.status.upper()})
