"""Provider settlement records, UTC days, and the request and response bodies of the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, Field

from bwai_payments.money import format_crypto

Provider = Literal["nowpayments", "coinbase_commerce"]
PROVIDERS: tuple[Provider, ...] = ("nowpayments", "coinbase_commerce")
OUTCOMES = (
    "matched",
    "missing_internally",
    "missing_at_provider",
    "amount_mismatch",
    "currency_mismatch",
    "status_mismatch",
)


@dataclass(frozen=True, slots=True)
class DayWindow:
    """A UTC day as the half-open interval [start, end): midnight to the next midnight."""

    day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day, time(0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """One provider payment as the provider reports it, with its last status change time.

    Currency codes are lower case; amounts are Decimal; `merchant_reference` is the reference
    we sent (None when the payment carries none, as another integration's payments do).
    """

    provider: str
    provider_payment_id: str
    status: str
    pay_currency: str | None
    actually_paid: Decimal | None
    outcome_amount: Decimal | None
    outcome_currency: str | None
    updated_at: datetime
    merchant_reference: str | None = None

    def as_copy_row(self) -> tuple[Any, ...]:
        """Return the row in the column order of the staging table."""
        return (
            self.provider_payment_id,
            self.status.lower(),
            _lower(self.pay_currency),
            self.actually_paid,
            self.outcome_amount,
            _lower(self.outcome_currency),
            self.updated_at,
            self.merchant_reference,
        )


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


class RunRequest(BaseModel):
    provider: Provider
    day: date = Field(description="UTC day to reconcile, YYYY-MM-DD")


class ResolveRequest(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class RunOut(BaseModel):
    id: UUID
    provider: str
    day: date
    version: int
    source: str
    trigger: str
    requested_by: str | None
    status: str
    progress: int
    provider_records: int
    foreign_records: int
    total: int
    counts: dict[str, int]
    mismatch_rate: str
    error: str | None
    started_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> RunOut:
        return cls(
            id=row["id"],
            provider=row["provider"],
            day=row["day"],
            version=row["version"],
            source=row["source"],
            trigger=row["trigger"],
            requested_by=row["requested_by"],
            status=row["status"],
            progress=row["progress"],
            provider_records=row["provider_records"],
            foreign_records=row["foreign_records"],
            total=row["total"],
            counts={outcome: row[outcome] for outcome in OUTCOMES},
            mismatch_rate=format_rate(row["mismatch_rate"]),
            error=row["error"],
            started_at=row["started_at"],
            completed_at=row["completed_at"],
        )


class RecordOut(BaseModel):
    id: int
    run_id: UUID
    provider_payment_id: str
    payment_id: UUID | None
    outcome: str
    differences: list[str]
    provider: dict[str, Any]
    internal: dict[str, Any]
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> RecordOut:
        return cls(
            id=row["id"],
            run_id=row["run_id"],
            provider_payment_id=row["provider_payment_id"],
            payment_id=row["payment_id"],
            outcome=row["outcome"],
            differences=list(row["differences"]),
            provider=_side(row, "provider"),
            internal=_side(row, "internal"),
            resolved_at=row["resolved_at"],
            resolved_by=row["resolved_by"],
            resolution_note=row["resolution_note"],
        )


def _side(row: asyncpg.Record, side: str) -> dict[str, Any]:
    return {
        "status": row[f"{side}_status"],
        "pay_currency": row[f"{side}_pay_currency"],
        "actually_paid": format_crypto(row[f"{side}_actually_paid"]),
        "outcome_amount": format_crypto(row[f"{side}_outcome_amount"]),
        "outcome_currency": row[f"{side}_outcome_currency"],
        "changed_at": row[f"{side}_changed_at"],
    }


class RunReport(BaseModel):
    run: RunOut
    records: list[RecordOut]
    next_cursor: int | None = None


class RunList(BaseModel):
    items: list[RunOut]


class ImportResult(BaseModel):
    runs: list[RunOut]


def format_rate(rate: Decimal) -> str:
    """Write a mismatch rate in plain notation without trailing zeros ("0.0015", "0")."""
    text = format(rate.normalize(), "f")
    return text
