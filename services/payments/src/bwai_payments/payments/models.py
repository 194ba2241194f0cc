"""Payment request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bwai_payments.money import format_crypto

ProviderName = Literal["nowpayments", "coinbase_commerce"]


class InitiatePaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: ProviderName
    # Asset code as the providers spell it (btc, eth, usdttrc20). Without it the customer picks
    # the asset on the provider's checkout page.
    pay_currency: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{2,20}$")

    @field_validator("pay_currency")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value


class DepositOut(BaseModel):
    provider_payment_id: str
    parent_payment_id: str | None
    provider_status: str
    pay_currency: str | None
    pay_amount: str | None
    actually_paid: str


class PaymentOut(BaseModel):
    id: UUID
    order_id: UUID
    tenant_id: str
    provider: ProviderName
    provider_checkout_id: str
    # Coinbase: the charge id. NOWPayments: the payment_id of the invoice's first deposit, null
    # until the first IPN arrives.
    provider_payment_id: str | None
    checkout_url: str
    pay_currency: str | None
    status: str
    provider_status: str | None
    amount_due: str | None
    actually_paid: str
    outcome: str | None
    late: bool
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    deposits: list[DepositOut] = Field(default_factory=list)

    @classmethod
    def from_row(cls, row: Any, deposits: list[Any] | None = None) -> PaymentOut:
        return cls(
            id=row["id"],
            order_id=row["order_id"],
            tenant_id=row["tenant_id"],
            provider=row["provider"],
            provider_checkout_id=row["provider_checkout_id"],
            provider_payment_id=row["provider_payment_id"],
            checkout_url=row["checkout_url"],
            pay_currency=row["pay_currency"],
            status=row["status"],
            provider_status=row["provider_status"],
            amount_due=format_crypto(row["amount_due"]),
            actually_paid=format_crypto(row["actually_paid"]) or "0",
            outcome=row["outcome"],
            late=row["late"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            expires_at=row["expires_at"],
            deposits=[_deposit(d) for d in deposits or []],
        )


def _deposit(row: Any) -> DepositOut:
    return DepositOut(
        provider_payment_id=row["provider_payment_id"],
        parent_payment_id=row["parent_payment_id"],
        provider_status=row["provider_status"],
        pay_currency=row["pay_currency"],
        pay_amount=format_crypto(row["pay_amount"]),
        actually_paid=format_crypto(row["actually_paid"]) or "0",
    )
