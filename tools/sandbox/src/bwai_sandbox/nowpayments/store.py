"""In-memory NOWPayments records; the caller holds the sandbox lock while changing them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bwai_sandbox.nowpayments.models import Invoice, Payment


@dataclass
class NowPaymentsStore:
    invoices: dict[str, Invoice] = field(default_factory=dict)
    payments: dict[int, Payment] = field(default_factory=dict)
    # Bearer tokens from POST /v1/auth, with the time each stops being accepted.
    tokens: dict[str, datetime] = field(default_factory=dict)

    def taken_ids(self) -> set[int]:
        return {int(i) for i in self.invoices} | set(self.payments)

    def invoices_for_order(self, order_id: str) -> list[Invoice]:
        return [i for i in self.invoices.values() if i.order_id == order_id]

    def payments_of(self, invoice: Invoice) -> list[Payment]:
        return [self.payments[p] for p in invoice.payment_ids]
