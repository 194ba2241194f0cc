"""The data of `webhooks.provider_event.received`, read with Decimal amounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    provider: str
    provider_event_id: str
    provider_status: str | None
    status_context: str | None
    checkout_id: str | None
    provider_payment_id: str
    parent_payment_id: str | None
    merchant_reference: str | None
    pay_currency: str | None
    pay_amount: Decimal | None
    actually_paid: Decimal | None
    occurred_at: datetime | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ProviderEvent:
        return cls(
            provider=data["provider"],
            provider_event_id=data["provider_event_id"],
            provider_status=data.get("provider_status"),
            status_context=data.get("status_context"),
            checkout_id=data.get("checkout_id"),
            provider_payment_id=data["provider_payment_id"],
            parent_payment_id=data.get("parent_payment_id"),
            merchant_reference=data.get("merchant_reference"),
            pay_currency=data.get("pay_currency"),
            pay_amount=_decimal(data.get("pay_amount")),
            actually_paid=_decimal(data.get("actually_paid")),
            occurred_at=_time(data.get("occurred_at")),
        )

    def reference_uuid(self) -> UUID | None:
        """Return our reference when it has our format (a UUIDv7), else None."""
        if not self.merchant_reference:
            return None
        try:
            value = UUID(self.merchant_reference)
        except ValueError:
            return None
        return value if value.version == 7 else None


def _decimal(value: Any) -> Decimal | None:
    # The schema makes amounts decimal strings; Decimal(str) keeps every digit.
    return None if value is None else Decimal(str(value))


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
