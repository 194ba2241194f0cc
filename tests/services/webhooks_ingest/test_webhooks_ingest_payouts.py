"""NOWPayments payout IPNs on their own endpoint: verified, stored, published once."""

from __future__ import annotations

import asyncpg
import httpx
from bwai_core import jsonutil
from bwai_providers.nowpayments import canonical_json, sign_ipn
from webhooks_fixtures import IPN_SECRET

PATH = "/v1/webhooks/nowpayments/payouts"


def payout_ipn(status: str = "FINISHED") -> bytes:
    payload = {
        "id": "5000000002",
        "batch_withdrawal_id": "5000000001",
        "status": status,
        "error": None,
        "currency": "btc",
        "amount": "0.0005",
        "address": "bc1qcustomer",
        "extra_id": None,
        "hash": "ab12",
        "ipn_callback_url": "http://127.0.0.1:8000/v1/webhooks/nowpayments/payouts",
        "created_at": "2026-01-15T12:00:00.000Z",
        "requested_at": "2026-01-15T12:00:01.000Z",
        "updated_at": "2026-01-15T12:05:00.000Z",
    }
    return canonical_json(payload).encode()


async def post(client: httpx.AsyncClient, body: bytes, signature: str) -> httpx.Response:
    headers = {"Content-Type": "application/json", "x-nowpayments-sig": signature}
    return await client.post(PATH, content=body, headers=headers)


async def test_payout_ipn_is_published_once(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    body = payout_ipn()

    first = await post(client, body, sign_ipn(body, IPN_SECRET))
    again = await post(client, body, sign_ipn(body, IPN_SECRET))

    assert first.json()["status"] == "accepted"
    assert again.json()["status"] == "duplicate"
    rows = await pool.fetch("SELECT payload FROM outbox")
    assert len(rows) == 1
    payload = rows[0]["payload"]
    event = jsonutil.loads(payload) if isinstance(payload, bytes | str) else payload
    assert event["type"] == "webhooks.payout_event.received"
    assert event["subject"] == "5000000002"
    assert event["data"]["provider_event_id"] == "payout:5000000002:FINISHED"
    assert event["data"]["batch_withdrawal_id"] == "5000000001"
    assert event["data"]["amount"] == "0.0005"
    assert event["data"]["occurred_at"] == "2026-01-15T12:05:00Z"


async def test_payout_ipn_with_bad_signature_is_rejected(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = payout_ipn()

    response = await post(client, body, sign_ipn(body, "another-secret"))

    assert response.status_code in (400, 401)
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    outcome = await pool.fetchval("SELECT outcome FROM webhook_deliveries")
    assert outcome == "rejected"


async def test_payout_ipn_without_id_is_rejected(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = canonical_json({"status": "FINISHED", "amount": "1"}).encode()

    response = await post(client, body, sign_ipn(body, IPN_SECRET))

    assert response.status_code == 400
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
