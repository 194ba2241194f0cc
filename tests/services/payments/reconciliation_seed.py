"""Seed our side of reconciliation (orders, payments, deposits, ledger, provider states)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import asyncpg
from bwai_core.ids import new_id
from bwai_payments.reconciliation.models import ProviderRecord

DAY = date(2026, 1, 14)


def at(hour: int, minute: int = 0, second: int = 0, micro: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=UTC)


TEN_AM = at(10)


@dataclass(frozen=True)
class Side:
    """One provider payment as one side sees it."""

    payment_id: str
    status: str = "finished"
    pay_currency: str = "btc"
    paid: Decimal = Decimal("0.001")
    outcome: Decimal | None = Decimal("0.00098")
    outcome_currency: str | None = "btc"
    changed_at: datetime = TEN_AM


def provider_record(side: Side, provider: str = "nowpayments") -> ProviderRecord:
    return ProviderRecord(
        provider=provider,
        provider_payment_id=side.payment_id,
        status=side.status,
        pay_currency=side.pay_currency,
        actually_paid=side.paid,
        outcome_amount=side.outcome,
        outcome_currency=side.outcome_currency,
        updated_at=side.changed_at,
        merchant_reference=str(new_id()),
    )


async def seed_internal(
    pool: asyncpg.Pool, side: Side, provider: str = "nowpayments", *, with_state: bool = True
) -> UUID:
    """Record the payment as the state machine and the ledger would; return our payment id."""
    order_id, payment_id = new_id(), new_id()
    now = side.changed_at
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO orders (id, tenant_id, amount, currency, status, created_at, updated_at)"
            " VALUES ($1, 'acme', 49.99, 'USD', 'paid', $2, $2)",
            order_id,
            now,
        )
        await conn.execute(
            "INSERT INTO payments (id, order_id, tenant_id, provider, provider_checkout_id,"
            " provider_payment_id, checkout_url, pay_currency, status, actually_paid,"
            " is_active, created_at, updated_at)"
            " VALUES ($1, $2, 'acme', $3, $4, $5, 'https://checkout.test', $6, 'paid', $7,"
            " false, $8, $8)",
            payment_id,
            order_id,
            provider,
            f"checkout-{side.payment_id}",
            side.payment_id,
            side.pay_currency,
            side.paid,
            now,
        )
        await conn.execute(
            "INSERT INTO provider_deposits (provider, provider_payment_id, payment_id,"
            " provider_status, status_rank, status, pay_currency, actually_paid, created_at,"
            " updated_at) VALUES ($1, $2, $3, $4, 6, 'paid', $5, $6, $7, $7)",
            provider,
            side.payment_id,
            payment_id,
            side.status,
            side.pay_currency,
            side.paid,
            now,
        )
        if side.paid > 0:
            await _post(conn, provider, side, order_id, payment_id)
        if with_state:
            await conn.execute(
                "INSERT INTO reconciliation_provider_states (provider, provider_payment_id,"
                " status_changed_at, outcome_amount, outcome_currency, provider_event_id,"
                " updated_at) VALUES ($1, $2, $3, $4, $5, 'seed', $3)",
                provider,
                side.payment_id,
                side.changed_at,
                side.outcome,
                side.outcome_currency,
            )
    return payment_id


async def _post(
    conn: asyncpg.Connection, provider: str, side: Side, order_id: UUID, payment_id: UUID
) -> None:
    await conn.execute(
        "INSERT INTO transactions (id, tenant_id, order_id, payment_id, kind, debit_account,"
        " credit_account, amount, currency, fiat_currency, paid_total, provider,"
        " provider_payment_id, provider_event_id, posting_key, created_at)"
        " VALUES ($1, 'acme', $2, $3, 'payment_received', 'provider', 'order', $4, $5, 'USD',"
        " $4, $6, $7, 'seed', $8, $9)",
        new_id(),
        order_id,
        payment_id,
        side.paid,
        side.pay_currency,
        provider,
        side.payment_id,
        f"{provider}:{side.payment_id}:{side.paid}",
        side.changed_at,
    )
