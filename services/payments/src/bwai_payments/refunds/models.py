"""Refund requests and responses."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bwai_payments.money import format_crypto

RefundStatus = Literal["requested", "submitted", "completed", "failed"]
# Plain decimal notation, at most 18 places (the scale of the amount columns).
_CRYPTO_AMOUNT = re.compile(r"^(0|[1-9]\d{0,19})(\.\d{1,18})?$")


class CreateRefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: str = Field(
        description='Amount in the currency the customer paid in, e.g. "0.00012000".'
    )
    reason: str = Field(min_length=1, max_length=1000)
    refund_address: str = Field(
        min_length=1, max_length=200, description="Customer's address in the pay currency."
    )

    @field_validator("amount")
    @classmethod
    def _plain_positive_decimal(cls, value: str) -> str:
        if not _CRYPTO_AMOUNT.match(value):
            raise ValueError('must be a decimal string such as "0.00012" (at most 18 places)')
        if Decimal(value) <= 0:
            raise ValueError("must be greater than 0")
        return value

    def decimal_amount(self) -> Decimal:
        return Decimal(self.amount)


class VerifyRefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verification_code: str = Field(
        min_length=4, max_length=16, description="2FA code of the NOWPayments account."
    )


class ConfirmRefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["completed", "failed"] = "completed"
    provider_reference: str = Field(
        min_length=1, max_length=200, description="Refund reference shown by the provider."
    )
    note: str | None = Field(default=None, max_length=1000)


class RefundOut(BaseModel):
    id: UUID
    payment_id: UUID
    order_id: UUID
    tenant_id: str
    provider: str
    method: Literal["payout", "manual"]
    amount: str
    currency: str
    reason: str
    refund_address: str
    status: RefundStatus
    partially_paid: bool
    provider_note: str | None
    provider_reference: str | None
    provider_payout_id: str | None
    provider_status: str | None
    awaiting_verification: bool
    failure_reason: str | None
    last_error: str | None
    requested_by: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> RefundOut:
        values = dict(row)
        values["amount"] = format_crypto(row["amount"])
        return cls.model_validate(values)


class RefundList(BaseModel):
    items: list[RefundOut]
