"""In-memory NOWPayments records; the caller holds the sandbox lock while changing them."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import datetime

from bwai_sandbox.nowpayments.models import Invoice, Payment


@dataclass
class NowPaymentsStore:
    invoices: dict[str, Invoice] = field(default_factory=dict)
    payments: dict[int, Payment] = field(default_factory=dict)
    # Bearer tokens from POST /v1/auth, with the time each stops being accepted.
    tokens: dict[str, datetime] = field(default_factory=dict)

    def taken_ids(self) -> Container[int]:
        """Invoice and payment ids in use, checked in constant time (ids share one space)."""
        return _TakenIds(self)

    def invoices_for_order(self, order_id: str) -> list[Invoice]:
        return [i for i in self.invoices.values() if i.order_id == order_id]

    def payments_of(self, invoice: Invoice) -> list[Payment]:
        return [self.payments[p] for p in invoice.payment_ids]


@dataclass(frozen=True, slots=True)
class _TakenIds:
    # A view rather than a set built per call: building it cost time linear in the store.
    store: NowPaymentsStore

    def __contains__(self, candidate: object) -> bool:
        if not isinstance(candidate, int):
            return False
        return str(candidate) in self.store.invoices or candidate in self.store.payments
