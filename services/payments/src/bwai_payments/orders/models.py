"""Order request and response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from bwai_core import jsonutil
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from bwai_payments.money import format_fiat, parse_fiat_amount

OrderStatus = Literal["open", "partially_paid", "paid", "overpaid", "cancelled"]

# Compact JSON size limit of an order's metadata, so one order cannot bloat every event.
MAX_METADATA_BYTES = 4096


class CreateOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Declared before `amount`, so the amount check can read the currency's minor unit.
    currency: str = Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code, e.g. USD")
    amount: str = Field(
        description='Decimal string such as "49.99"; JSON numbers are rejected to avoid float.'
    )
    description: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] = Field(default_factory=dict)
    success_url: AnyHttpUrl | None = None
    cancel_url: AnyHttpUrl | None = None
    # Operators name the tenant the order is for; a tenant's own token may omit it.
    tenant: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_string(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError('must be a JSON string such as "49.99", not a number')
        return value

    @field_validator("amount")
    @classmethod
    def _valid_amount(cls, value: str, info: ValidationInfo) -> str:
        currency = info.data.get("currency")
        if currency is None:
            return value  # the currency error is reported on its own field
        parse_fiat_amount(value, currency)
        return value

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.upper()

    @field_validator("metadata")
    @classmethod
    def _bounded_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(jsonutil.dumps(value))
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"is {size} bytes as JSON; at most {MAX_METADATA_BYTES} allowed")
        return value

    def decimal_amount(self) -> Decimal:
        return parse_fiat_amount(self.amount, self.currency)


class OrderOut(BaseModel):
    id: UUID
    tenant_id: str
    status: OrderStatus
    amount: str
    currency: str
    description: str | None
    metadata: dict[str, Any]
    success_url: str | None
    cancel_url: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> OrderOut:
        return cls(
            id=row["id"],
            tenant_id=row["tenant_id"],
            status=row["status"],
            amount=format_fiat(row["amount"], row["currency"]),
            currency=row["currency"],
            description=row["description"],
            metadata=row["metadata"],
            success_url=row["success_url"],
            cancel_url=row["cancel_url"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


class OrderPage(BaseModel):
    items: list[OrderOut]
    # Pass as `cursor` to read the next page; null on the last page.
    next_cursor: UUID | None
