"""Request bodies of the control API."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from bwai_sandbox.faults import FaultMode
from bwai_sandbox.models import DeliveryOptions, Outcome, PayRequest, Provider

# Amounts travel as strings so they never pass through float.
DECIMAL_TEXT = r"^[0-9]+(\.[0-9]+)?$"


class PayBody(BaseModel):
    outcome: Outcome
    # Crypto amount the customer sends, as a decimal string; omitted picks one per outcome.
    amount: str | None = Field(default=None, pattern=DECIMAL_TEXT)
    pay_currency: str | None = None
    delivery: DeliveryOptions = Field(default_factory=DeliveryOptions)

    def to_request(self) -> PayRequest:
        amount = Decimal(self.amount) if self.amount is not None else None
        return PayRequest(self.outcome, amount, self.pay_currency)


class DepositBody(BaseModel):
    # Omitted deposits the parent payment's `pay_amount` again.
    amount: str | None = Field(default=None, pattern=DECIMAL_TEXT)
    delivery: DeliveryOptions = Field(default_factory=DeliveryOptions)

    def decimal_amount(self) -> Decimal | None:
        return Decimal(self.amount) if self.amount is not None else None


class FaultBody(BaseModel):
    provider: Provider
    mode: FaultMode
    # How many of the next create requests fail this way.
    count: int = Field(default=1, ge=1, le=100)
    # How long `timeout_after_create` delays the response, in seconds.
    hang_seconds: float = Field(default=30.0, gt=0, le=600)
