"""NOWPayments invoices and the payments made through them, as the sandbox stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(slots=True)
class Invoice:
    # NOWPayments sends invoice ids as digit strings in responses and as numbers in IPNs.
    id: str
    token_id: str
    price_amount: Decimal
    price_currency: str
    created_at: datetime
    updated_at: datetime
    pay_currency: str | None = None
    order_id: str | None = None
    order_description: str | None = None
    ipn_callback_url: str | None = None
    success_url: str | None = None
    cancel_url: str | None = None
    partially_paid_url: str | None = None
    is_fixed_rate: bool = False
    is_fee_paid_by_user: bool = False
    payment_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Fee:
    currency: str
    deposit_fee: Decimal = Decimal(0)
    withdrawal_fee: Decimal = Decimal(0)
    service_fee: Decimal = Decimal(0)


@dataclass(slots=True)
class Payment:
    """One deposit under an invoice; a repeated deposit is a new Payment with a parent."""

    payment_id: int
    invoice_id: int
    purchase_id: str
    status: str
    pay_address: str
    pay_currency: str
    pay_amount: Decimal
    price_amount: Decimal
    price_currency: str
    created_at: datetime
    updated_at: datetime
    fee: Fee
    outcome_amount: Decimal
    order_id: str | None = None
    order_description: str | None = None
    parent_payment_id: int | None = None
    actually_paid: Decimal = Decimal(0)
    actually_paid_at_fiat: Decimal = Decimal(0)
