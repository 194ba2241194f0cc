"""Dispute requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

DisputeOutcome = Literal["merchant_won", "customer_won", "withdrawn"]


class OpenDisputeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class ResolveDisputeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: DisputeOutcome
    note: str = Field(min_length=1, max_length=2000, description="Why it ended this way.")


class DisputeOut(BaseModel):
    id: UUID
    payment_id: UUID
    order_id: UUID
    tenant_id: str
    status: Literal["open", "resolved"]
    reason: str
    outcome: DisputeOutcome | None
    resolution_note: str | None
    opened_by: str
    resolved_by: str | None
    opened_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> DisputeOut:
        return cls.model_validate(dict(row))


class DisputeList(BaseModel):
    items: list[DisputeOut]
