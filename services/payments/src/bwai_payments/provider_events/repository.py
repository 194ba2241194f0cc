"""SQL used while applying provider events; every call runs in the consumer's transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from bwai_payments.payments.repository import PAYMENT_COLUMNS

_P_COLUMNS = ", ".join(f"p.{column.strip()}" for column in PAYMENT_COLUMNS.split(","))


async def lock_payment(
    conn: asyncpg.Connection,
    provider: str,
    checkout_id: str | None,
    provider_payment_id: str,
    reference: UUID | None,
) -> asyncpg.Record | None:
    """Find the payment an event belongs to and lock it and its order until commit.

    Matched by checkout id (invoice or charge), then by a deposit already seen, then by our
    reference (the payment id we sent). Locking the order as well serialises every event of one
    order, so the order status is derived from a stable set of payments.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT {_P_COLUMNS}, o.amount AS order_amount, o.currency AS order_currency,
               o.status AS order_status, p.trace_context
        FROM payments p JOIN orders o ON o.id = p.order_id
        WHERE p.id = COALESCE(
            (SELECT id FROM payments WHERE provider = $1 AND provider_checkout_id = $2),
            (SELECT payment_id FROM provider_deposits
             WHERE provider = $1 AND provider_payment_id = $3),
            (SELECT id FROM payments WHERE provider = $1 AND id = $4)
        )
        FOR UPDATE OF p, o
        """,
        provider,
        checkout_id,
        provider_payment_id,
        reference,
    )
    return row


async def deposits_of(conn: asyncpg.Connection, payment_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM provider_deposits WHERE payment_id = $1", payment_id
    )
    return rows


async def save_deposit(conn: asyncpg.Connection, deposit: dict[str, Any], now: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO provider_deposits (provider, provider_payment_id, payment_id,
            parent_payment_id, provider_status, status_context, status_rank, status,
            pay_currency, pay_amount, actually_paid, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
        ON CONFLICT (provider, provider_payment_id) DO UPDATE SET
            parent_payment_id = COALESCE(provider_deposits.parent_payment_id,
                                         EXCLUDED.parent_payment_id),
            provider_status = EXCLUDED.provider_status,
            status_context = EXCLUDED.status_context,
            status_rank = EXCLUDED.status_rank,
            status = EXCLUDED.status,
            pay_currency = EXCLUDED.pay_currency,
            pay_amount = EXCLUDED.pay_amount,
            actually_paid = EXCLUDED.actually_paid,
            updated_at = EXCLUDED.updated_at
        """,
        deposit["provider"],
        deposit["provider_payment_id"],
        deposit["payment_id"],
        deposit["parent_payment_id"],
        deposit["provider_status"],
        deposit["status_context"],
        deposit["status_rank"],
        deposit["status"],
        deposit["pay_currency"],
        deposit["pay_amount"],
        deposit["actually_paid"],
        now,
    )


async def update_payment(
    conn: asyncpg.Connection, payment_id: UUID, fields: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        """
        UPDATE payments SET status = $2, status_rank = $3, provider_status = $4,
            provider_payment_id = $5, pay_currency = $6, amount_due = $7, actually_paid = $8,
            outcome = $9, late = $10, is_active = $11, updated_at = $12
        WHERE id = $1
        """,
        payment_id,
        fields["status"],
        fields["status_rank"],
        fields["provider_status"],
        fields["provider_payment_id"],
        fields["pay_currency"],
        fields["amount_due"],
        fields["actually_paid"],
        fields["outcome"],
        fields["late"],
        fields["is_active"],
        now,
    )


async def other_payments_of_order(
    conn: asyncpg.Connection, order_id: UUID, payment_id: UUID
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT status, outcome, actually_paid FROM payments WHERE order_id = $1 AND id <> $2",
        order_id,
        payment_id,
    )
    return rows


async def set_order_status(
    conn: asyncpg.Connection, order_id: UUID, status: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1", order_id, status, now
    )


async def store_foreign(
    conn: asyncpg.Connection,
    *,
    provider: str,
    provider_event_id: str,
    event_id: str,
    reason: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO foreign_provider_events (provider, provider_event_id, event_id, reason, data,
                                             received_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (provider, provider_event_id) DO NOTHING
        """,
        provider,
        provider_event_id,
        UUID(event_id),
        reason,
        data,
        now,
    )


async def park(
    pool: asyncpg.Pool,
    *,
    event_id: str,
    provider: str,
    provider_event_id: str,
    reason: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Record (outside the rolled-back consumer transaction) that an event waits for its payment."""
    await pool.execute(
        """
        INSERT INTO parked_provider_events (event_id, provider, provider_event_id, reason, data,
                                            first_seen_at, last_seen_at)
        VALUES ($1, $2, $3, $4, $5, $6, $6)
        ON CONFLICT (event_id) DO UPDATE SET
            attempts = parked_provider_events.attempts + 1,
            reason = EXCLUDED.reason,
            last_seen_at = EXCLUDED.last_seen_at
        """,
        UUID(event_id),
        provider,
        provider_event_id,
        reason,
        data,
        now,
    )


async def unpark(conn: asyncpg.Connection, event_id: str) -> None:
    await conn.execute("DELETE FROM parked_provider_events WHERE event_id = $1", UUID(event_id))


def as_decimal(value: Decimal | None) -> Decimal:
    return value if value is not None else Decimal(0)
