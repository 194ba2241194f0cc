"""Operator audit records and the request details each one keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from bwai_web.auth import Principal
from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Who sent an operator request and how, read once at the edge (see `request_meta`)."""

    # The time the request was received, from the service clock.
    at: datetime
    client_address: str | None = None
    user_agent: str | None = None
    correlation_id: str | None = None
    request_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class OperatorRequest:
    """The caller of a request and the request's details, as an audited action needs them."""

    principal: Principal
    meta: RequestMeta


@dataclass(frozen=True, slots=True)
class AuditTarget:
    """What an action applied to: a type such as "order", "payment" or "refund" and its id."""

    type: str
    id: str
    tenant_id: str | None = None


class AuditEntryOut(BaseModel):
    id: UUID
    actor: str
    action: str
    occurred_at: datetime
    target_type: str
    target_id: str
    tenant_id: str | None
    client_address: str | None
    user_agent: str | None
    correlation_id: str | None
    request_id: str | None
    idempotency_key: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> AuditEntryOut:
        return cls.model_validate(dict(row))


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    # Pass as `cursor` to read the next (older) page; null on the last page.
    next_cursor: UUID | None
