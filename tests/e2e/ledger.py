"""Ledger checks read straight from the payments database, across every order at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import asyncpg


async def fetch_all(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()


async def postings(dsn: str) -> list[asyncpg.Record]:
    return await fetch_all(
        dsn, "SELECT order_id::text, payment_id::text, amount, posting_key FROM transactions"
    )


async def paid_per_payment(dsn: str) -> dict[str, Decimal]:
    """Return the ledger total of every payment id that has postings."""
    totals: dict[str, Decimal] = {}
    for row in await postings(dsn):
        totals[row["payment_id"]] = totals.get(row["payment_id"], Decimal(0)) + row["amount"]
    return totals


def repeated_posting_keys(rows: list[asyncpg.Record]) -> list[str]:
    counts = Counter(row["posting_key"] for row in rows)
    return [key for key, count in counts.items() if count > 1]


async def order_statuses(dsn: str, order_ids: list[str]) -> dict[str, str]:
    rows = await fetch_all(
        dsn, "SELECT id::text, status FROM orders WHERE id = ANY($1::uuid[])", order_ids
    )
    return {row["id"]: row["status"] for row in rows}


async def wait_for_statuses(
    dsn: str, expected: dict[str, str], timeout_s: float = 45.0
) -> dict[str, str]:
    """Poll the orders until each has its expected status, and return the last statuses read."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    statuses: dict[str, str] = {}
    while loop.time() < deadline:
        statuses = await order_statuses(dsn, list(expected))
        if statuses == expected:
            break
        await asyncio.sleep(0.25)
    return statuses


async def wait_for_outbox_empty(dsn: str, timeout_s: float = 30.0) -> int:
    """Poll until the outbox is empty and return the rows left when the wait ends."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        left = len(await fetch_all(dsn, "SELECT 1 FROM outbox LIMIT 1000"))
        if left == 0 or loop.time() > deadline:
            return left
        await asyncio.sleep(0.25)


async def unconsumed_events(webhooks_dsn: str, payments_dsn: str) -> set[str]:
    """Return ids of events webhooks-ingest published that payments has not applied yet."""
    published = await fetch_all(webhooks_dsn, "SELECT event_id::text AS id FROM provider_events")
    applied = await fetch_all(
        payments_dsn, "SELECT event_id AS id FROM inbox WHERE consumer = 'payments'"
    )
    return {row["id"] for row in published} - {row["id"] for row in applied}


async def wait_for_events_consumed(
    webhooks_dsn: str, payments_dsn: str, timeout_s: float = 45.0
) -> set[str]:
    """Poll until payments has applied every published event, and return those still missing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        missing = await unconsumed_events(webhooks_dsn, payments_dsn)
        if not missing or loop.time() > deadline:
            return missing
        await asyncio.sleep(0.25)
