"""Ledger response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from bwai_payments.money import format_crypto


class TransactionOut(BaseModel):
    id: UUID
    order_id: UUID
    payment_id: UUID
    kind: str
    debit_account: str
    credit_account: str
    # In the pay currency.
    amount: str
    currency: str
    # The order's fiat value of `amount`, at the checkout's own rate; null until it is known.
    fiat_amount: str | None
    fiat_currency: str
    paid_total: str
    provider: str
    provider_payment_id: str
    provider_event_id: str
    occurred_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> TransactionOut:
        return cls(
            id=row["id"],
            order_id=row["order_id"],
            payment_id=row["payment_id"],
            kind=row["kind"],
            debit_account=row["debit_account"],
            credit_account=row["credit_account"],
            amount=format_crypto(row["amount"]) or "0",
            currency=row["currency"],
            fiat_amount=format_crypto(row["fiat_amount"]),
            fiat_currency=row["fiat_currency"],
            paid_total=format_crypto(row["paid_total"]) or "0",
            provider=row["provider"],
            provider_payment_id=row["provider_payment_id"],
            provider_event_id=row["provider_event_id"],
            occurred_at=row["occurred_at"],
            created_at=row["created_at"],
        )


class TransactionList(BaseModel):
    items: list[TransactionOut]
