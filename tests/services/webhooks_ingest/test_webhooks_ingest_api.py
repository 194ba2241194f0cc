"""The webhook endpoints end to end: HTTP in, deliveries and outbox rows in PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import structlog.testing
from bwai_messaging.envelope import Event
from bwai_messaging.schemas import SchemaRegistry
from bwai_providers.coinbase import sign_webhook
from bwai_providers.nowpayments import sign_ipn
from webhooks_fixtures import CLIENT_ADDRESS, IPN_SECRET, ClientFactory, load_vectors, vector

NOWPAYMENTS_URL = "/v1/webhooks/nowpayments"
COINBASE_URL = "/v1/webhooks/coinbase-commerce"
PROBLEM_JSON = "application/problem+json"
FINISHED = vector("DERIVED-nowpayments-ipn-finished")
CONFIRMED = vector("DERIVED-coinbase-event-charge-confirmed")


def _post_ipn(client: httpx.AsyncClient, body: bytes, signature: str | None) -> Any:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-nowpayments-sig"] = signature
    return client.post(NOWPAYMENTS_URL, content=body, headers=headers)


async def _deliveries(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM webhook_deliveries ORDER BY id")


async def _outbox_events(pool: asyncpg.Pool) -> list[Event]:
    rows = await pool.fetch("SELECT payload FROM outbox ORDER BY id")
    return [Event.from_bytes(row["payload"]) for row in rows]


async def _count(pool: asyncpg.Pool, table: str) -> int:
    count: int = await pool.fetchval(f"SELECT count(*) FROM {table}")
    return count


async def test_nowpayments_ipn_accepted_and_published(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = FINISHED["body"].encode()

    response = await _post_ipn(client, body, FINISHED["signature"])

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    [delivery] = await _deliveries(pool)
    assert str(delivery["id"]) == response.json()["delivery_id"]
    assert delivery["outcome"] == "accepted"
    assert delivery["body"] == body
    assert delivery["secret_slot"] == "current"
    assert delivery["remote_addr"] == CLIENT_ADDRESS[0]
    assert delivery["provider_event_id"] == "5745459419:finished:0.17070286"
    assert delivery["headers"]["x-nowpayments-sig"] == FINISHED["signature"]
    [event] = await _outbox_events(pool)
    SchemaRegistry.default().validate(event)
    assert event.type == "webhooks.provider_event.received"
    assert event.subject == "5745459419"
    assert event.data["delivery_id"] == str(delivery["id"])
    assert event.data["actually_paid"] == "0.17070286"
    assert event.data["received_at"] == "2026-01-15T12:00:00Z"


@pytest.mark.parametrize(
    "signed",
    [v for v in load_vectors() if v["id"].startswith("DERIVED-coinbase")],
    ids=lambda v: v["id"],
)
async def test_coinbase_sample_accepted(
    client: httpx.AsyncClient, pool: asyncpg.Pool, signed: dict[str, Any]
) -> None:
    headers = {"X-CC-Webhook-Signature": signed["signature"]}

    response = await client.post(COINBASE_URL, content=signed["body"].encode(), headers=headers)

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    [event] = await _outbox_events(pool)
    assert event.data["provider"] == "coinbase_commerce"
    status = signed["id"].removeprefix("DERIVED-coinbase-event-charge-")
    assert event.data["event_type"] == f"charge:{status}"


async def test_coinbase_header_found_in_any_casing(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    headers = {"X-CC-WEBHOOK-SIGNATURE": CONFIRMED["signature"]}

    response = await client.post(COINBASE_URL, content=CONFIRMED["body"].encode(), headers=headers)

    assert response.status_code == 200
    assert await _count(pool, "outbox") == 1


async def test_duplicate_delivery_publishes_once(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = FINISHED["body"].encode()

    first = await _post_ipn(client, body, FINISHED["signature"])
    second = await _post_ipn(client, body, FINISHED["signature"])

    assert first.status_code == 200
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate"
    assert [d["outcome"] for d in await _deliveries(pool)] == ["accepted", "duplicate"]
    assert await _count(pool, "outbox") == 1
    assert await _count(pool, "provider_events") == 1


async def test_concurrent_identical_deliveries_publish_once(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = FINISHED["body"].encode()

    responses = await asyncio.gather(
        *(_post_ipn(client, body, FINISHED["signature"]) for _ in range(20))
    )

    assert [r.status_code for r in responses] == [200] * 20
    outcomes = sorted(r.json()["status"] for r in responses)
    assert outcomes == ["accepted"] + ["duplicate"] * 19
    assert await _count(pool, "outbox") == 1
    assert await _count(pool, "webhook_deliveries") == 20


async def test_same_payment_new_status_published_again(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    waiting = vector("DERIVED-nowpayments-ipn-waiting")

    await _post_ipn(client, waiting["body"].encode(), waiting["signature"])
    await _post_ipn(client, FINISHED["body"].encode(), FINISHED["signature"])

    statuses = [e.data["provider_status"] for e in await _outbox_events(pool)]
    assert statuses == ["waiting", "finished"]


async def test_previous_secret_accepted_during_rotation(
    make_client: ClientFactory, pool: asyncpg.Pool
) -> None:
    client = await make_client(
        nowpayments_ipn_secret="rotated-ipn-secret", nowpayments_ipn_secret_previous=IPN_SECRET
    )

    response = await _post_ipn(client, FINISHED["body"].encode(), FINISHED["signature"])

    assert response.status_code == 200
    [delivery] = await _deliveries(pool)
    assert delivery["secret_slot"] == "previous"


async def test_new_secret_accepted_during_rotation(
    make_client: ClientFactory, pool: asyncpg.Pool
) -> None:
    client = await make_client(
        nowpayments_ipn_secret="rotated-ipn-secret", nowpayments_ipn_secret_previous=IPN_SECRET
    )
    body = FINISHED["body"].encode()

    response = await _post_ipn(client, body, sign_ipn(body, "rotated-ipn-secret"))

    assert response.status_code == 200
    [delivery] = await _deliveries(pool)
    assert delivery["secret_slot"] == "current"


async def _assert_rejected_only(pool: asyncpg.Pool, reason: str) -> asyncpg.Record:
    [delivery] = await _deliveries(pool)
    assert delivery["outcome"] == "rejected"
    assert delivery["reason"] == reason
    assert await _count(pool, "outbox") == 0
    assert await _count(pool, "provider_events") == 0
    return delivery


async def test_wrong_signature_rejected_401(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    body = FINISHED["body"].encode()

    response = await _post_ipn(client, body, sign_ipn(body, "another-secret"))

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/signature-invalid")
    delivery = await _assert_rejected_only(pool, "signature-invalid")
    assert delivery["body"] == body


async def test_missing_signature_rejected_401(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    response = await _post_ipn(client, FINISHED["body"].encode(), None)

    assert response.status_code == 401
    assert response.json()["type"].endswith("/signature-missing")
    await _assert_rejected_only(pool, "signature-missing")


async def test_coinbase_body_without_event_rejected_400(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = b'{"id":1,"scheduled_for":"2017-01-31T20:50:02Z"}'
    headers = {"X-CC-Webhook-Signature": sign_webhook(body, "test-webhook-secret")}

    response = await client.post(COINBASE_URL, content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["type"].endswith("/payload-invalid")
    assert response.json()["field"] == "event"
    await _assert_rejected_only(pool, "payload-invalid")


async def test_ipn_not_json_rejected_400(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    response = await _post_ipn(client, b"payment_id=1", "ab" * 64)

    assert response.status_code == 400
    assert response.json()["type"].endswith("/payload-invalid")
    await _assert_rejected_only(pool, "payload-invalid")


async def test_signed_ipn_without_payment_id_rejected_400(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = b'{"payment_status":"finished","actually_paid":1}'

    response = await _post_ipn(client, body, sign_ipn(body, IPN_SECRET))

    assert response.status_code == 400
    assert response.json()["field"] == "payment_id"
    await _assert_rejected_only(pool, "payload-invalid")


async def test_oversized_body_rejected_413(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    body = b'{"pad":"' + b"x" * (64 * 1024) + b'"}'

    response = await _post_ipn(client, body, sign_ipn(body, IPN_SECRET))

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    delivery = await _assert_rejected_only(pool, "payload-too-large")
    assert delivery["body"] is None


async def test_streamed_oversized_body_rejected_413_problem(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(80):
            yield b"x" * 1024

    response = await client.post(
        NOWPAYMENTS_URL, content=chunks(), headers={"x-nowpayments-sig": "ab" * 64}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/payload-too-large")
    await _assert_rejected_only(pool, "payload-too-large")


async def test_unset_ipn_secret_never_accepts(
    make_client: ClientFactory, pool: asyncpg.Pool
) -> None:
    client = await make_client(nowpayments_ipn_secret=None)

    response = await _post_ipn(client, FINISHED["body"].encode(), FINISHED["signature"])

    assert response.status_code == 503
    assert response.json()["type"].endswith("/webhook-secret-unset")
    await _assert_rejected_only(pool, "webhook-secret-unset")


async def test_previous_secret_alone_never_accepts(
    make_client: ClientFactory, pool: asyncpg.Pool
) -> None:
    client = await make_client(
        nowpayments_ipn_secret="", nowpayments_ipn_secret_previous=IPN_SECRET
    )

    response = await _post_ipn(client, FINISHED["body"].encode(), FINISHED["signature"])

    assert response.status_code == 503
    await _assert_rejected_only(pool, "webhook-secret-unset")


VECTOR_STATUS = {"valid": 200, "signature": 401, "payload": 400}


@pytest.mark.parametrize(
    "case", [v for v in load_vectors() if v["kind"] != "canonical"], ids=lambda v: v["id"]
)
async def test_vector_over_http(
    make_client: ClientFactory, pool: asyncpg.Pool, case: dict[str, Any]
) -> None:
    secret_setting = (
        "nowpayments_ipn_secret"
        if case["provider"] == "nowpayments"
        else "coinbase_commerce_webhook_secret"
    )
    client = await make_client(**{secret_setting: case["secret"]})
    url = NOWPAYMENTS_URL if case["provider"] == "nowpayments" else COINBASE_URL

    response = await client.post(
        url, content=case["body"].encode(), headers={case["header_name"]: case["signature"]}
    )

    if case["kind"] == "valid":
        assert response.status_code == 200
        assert await _count(pool, "outbox") == 1
    else:
        assert response.status_code in (400, 401)
        assert response.status_code == (400 if "payload" in case["note"] else 401)
        await _assert_rejected_only(pool, response.json()["type"].rsplit("/", 1)[1])


async def test_logs_name_secret_slot_never_signature(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = FINISHED["body"].encode()

    with structlog.testing.capture_logs() as logs:
        await _post_ipn(client, body, FINISHED["signature"])
        await _post_ipn(client, body, sign_ipn(body, "another-secret"))

    accepted = [entry for entry in logs if entry["event"] == "webhook.delivery.accepted"]
    assert accepted[0]["secret"] == "current"
    rendered = repr(logs)
    assert FINISHED["signature"] not in rendered
    assert sign_ipn(body, "another-secret") not in rendered
    assert IPN_SECRET not in rendered
