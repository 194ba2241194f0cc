"""Types shared by both providers: payment outcomes and webhook delivery options."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Provider(StrEnum):
    NOWPAYMENTS = "nowpayments"
    COINBASE = "coinbase"


class Outcome(StrEnum):
    """The simulated customer's action on the checkout page."""

    FULL = "full"
    PARTIAL = "partial"
    OVER = "over"
    EXPIRE = "expire"
    FAIL = "fail"
    # A payment that arrives after the checkout expired (Coinbase charge:delayed).
    LATE = "late"


class DeliveryOptions(BaseModel):
    """Delivery options for the webhooks of one scenario: copies, spacing and order."""

    # Extra copies of each webhook, sent right after the original.
    duplicates: int = Field(default=0, ge=0, le=10)
    # Wait before each webhook, in milliseconds.
    delay_ms: int = Field(default=0, ge=0, le=60_000)
    shuffle: bool = False
    reverse: bool = False
    # Seed for `shuffle`, so a test can repeat one order.
    seed: int | None = None
    # NOWPayments bodies: "sorted" at every depth as real deliveries arrive, or "documented",
    # the unsorted field order of the docs' example. Both carry the same signature.
    nowpayments_key_order: Literal["sorted", "documented"] = "sorted"


@dataclass(frozen=True, slots=True)
class PayRequest:
    outcome: Outcome
    # Crypto amount the customer sends; None picks one that fits the outcome.
    amount: Decimal | None = None
    pay_currency: str | None = None
