"""Identity's outbox events; each is written in the transaction of the change it reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_messaging.envelope import new_event
from bwai_messaging.outbox import enqueue
from bwai_messaging.schemas import SchemaRegistry

SOURCE = "/services/identity"


async def publish(
    conn: asyncpg.Connection,
    event_type: str,
    data: dict[str, Any],
    *,
    subject: UUID,
    tenant_id: UUID | None,
    clock: Clock,
    schemas: SchemaRegistry,
) -> None:
    """Enqueue one event in the caller's transaction, validated against its contract."""
    event = new_event(
        event_type,
        data,
        source=SOURCE,
        clock=clock,
        subject=str(subject),
        tenant_id=str(tenant_id) if tenant_id is not None else None,
        correlation_id=structlog.contextvars.get_contextvars().get("correlation_id"),
    )
    await enqueue(conn, event, schemas=schemas)


def iso(moment: datetime) -> str:
    """Return an ISO 8601 UTC timestamp ending in Z, as every event contract expects."""
    return moment.isoformat().replace("+00:00", "Z")
