"""SQL for webhook deliveries and the distinct provider events they carried."""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bwai_webhooks_ingest.deliveries.models import IncomingDelivery, Outcome

Connection = asyncpg.Connection | PoolConnectionProxy
Executor = asyncpg.Pool | Connection

# One round trip: claim the event identity, then store the delivery as accepted when the claim
# inserted a row and as a duplicate when another delivery already claimed it. A concurrent
# transaction holding the same identity makes the claim wait for its commit, so exactly one of
# two simultaneous deliveries is accepted and neither fails.
_INSERT_VERIFIED = """
WITH claimed AS (
    INSERT INTO provider_events (provider, provider_event_id, first_delivery_id, event_id,
                                 received_at)
    VALUES ($2, $8, $1, $10, $3)
    ON CONFLICT (provider, provider_event_id) DO NOTHING
    RETURNING 1
)
INSERT INTO webhook_deliveries (id, provider, received_at, remote_addr, headers, body, body_size,
                                outcome, provider_event_id, secret_slot)
SELECT $1, $2, $3, $4, $5, $6, $7,
       CASE WHEN EXISTS (SELECT 1 FROM claimed) THEN 'accepted' ELSE 'duplicate' END, $8, $9
RETURNING outcome
"""

_INSERT_REJECTED = """
INSERT INTO webhook_deliveries (id, provider, received_at, remote_addr, headers, body, body_size,
                                outcome, reason, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'rejected', $8, $9)
"""


async def insert_verified(
    conn: Connection,
    delivery: IncomingDelivery,
    *,
    provider_event_id: str,
    secret_slot: str,
    event_id: str,
) -> Outcome:
    """Store a verified delivery; return 'accepted' for a new event, else 'duplicate'."""
    outcome: Outcome = await conn.fetchval(
        _INSERT_VERIFIED,
        *_delivery_columns(delivery),
        provider_event_id,
        secret_slot,
        event_id,
    )
    return outcome


async def insert_rejected(
    executor: Executor, delivery: IncomingDelivery, *, reason: str, detail: str
) -> None:
    await executor.execute(_INSERT_REJECTED, *_delivery_columns(delivery), reason, detail)


def _delivery_columns(delivery: IncomingDelivery) -> tuple[Any, ...]:
    return (
        delivery.id,
        delivery.provider,
        delivery.received_at,
        delivery.remote_addr,
        delivery.headers,
        delivery.body,
        delivery.body_size,
    )
