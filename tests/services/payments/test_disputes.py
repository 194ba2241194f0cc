"""Disputes over HTTP: step-up, one open dispute per payment, resolution, audit."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import httpx
from bwai_core.clock import FrozenClock
from operations_support import StepUpFactory, audit_rows, operator_headers, seed_payment

# The fixtures of operations_support (ops_api, ops_ctx, step_up ...).
pytest_plugins = ("operations_support",)

TokenFactory = Callable[..., str]


async def open_dispute(
    api: httpx.AsyncClient, make_token: TokenFactory, step_up: StepUpFactory, payment_id: str
) -> httpx.Response:
    return await api.post(
        f"/v1/payments/{payment_id}/disputes",
        json={"reason": "customer says the goods never arrived"},
        headers=operator_headers(make_token, step_up("dispute", payment_id)),
    )


async def resolve(
    api: httpx.AsyncClient, make_token: TokenFactory, step_up: StepUpFactory, dispute_id: str
) -> httpx.Response:
    return await api.post(
        f"/v1/disputes/{dispute_id}/resolve",
        json={"outcome": "merchant_won", "note": "tracking shows delivery"},
        headers=operator_headers(make_token, step_up("dispute", dispute_id)),
    )


async def test_dispute_open_and_resolve_are_audited(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = str(await seed_payment(ops_pool, now=clock.now()))

    opened = await open_dispute(ops_api, make_token, step_up, payment_id)
    dispute_id = opened.json()["id"]
    resolved = await resolve(ops_api, make_token, step_up, dispute_id)

    assert opened.status_code == 201, opened.text
    assert opened.json()["status"] == "open"
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["outcome"] == "merchant_won"
    assert resolved.json()["resolved_by"] == "client-ops"
    rows = await audit_rows(ops_pool, target_id=dispute_id)
    assert [row["action"] for row in rows] == ["dispute.opened", "dispute.resolved"]
    assert rows[0]["after"]["reason"] == "customer says the goods never arrived"
    assert rows[1]["before"]["status"] == "open"
    assert rows[1]["after"]["status"] == "resolved"


async def test_second_open_dispute_conflicts(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = str(await seed_payment(ops_pool, now=clock.now()))
    await open_dispute(ops_api, make_token, step_up, payment_id)

    second = await open_dispute(ops_api, make_token, step_up, payment_id)

    assert second.status_code == 409
    assert second.json()["type"].endswith("dispute-already-open")
    assert await ops_pool.fetchval("SELECT count(*) FROM disputes") == 1
    assert len(await audit_rows(ops_pool, action="dispute.opened")) == 1


async def test_resolved_dispute_cannot_resolve_again(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = str(await seed_payment(ops_pool, now=clock.now()))
    dispute_id = (await open_dispute(ops_api, make_token, step_up, payment_id)).json()["id"]
    await resolve(ops_api, make_token, step_up, dispute_id)

    again = await resolve(ops_api, make_token, step_up, dispute_id)

    assert again.status_code == 409
    assert len(await audit_rows(ops_pool, action="dispute.resolved")) == 1


async def test_dispute_without_step_up_is_challenged(
    ops_api: httpx.AsyncClient, ops_pool: asyncpg.Pool, make_token: TokenFactory, clock: FrozenClock
) -> None:
    payment_id = str(await seed_payment(ops_pool, now=clock.now()))

    response = await ops_api.post(
        f"/v1/payments/{payment_id}/disputes",
        json={"reason": "chargeback"},
        headers=operator_headers(make_token),
    )

    assert response.status_code == 401
    assert "insufficient_user_authentication" in response.headers["www-authenticate"]
    assert await ops_pool.fetchval("SELECT count(*) FROM disputes") == 0


async def test_refund_step_up_does_not_open_dispute(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = str(await seed_payment(ops_pool, now=clock.now()))

    response = await ops_api.post(
        f"/v1/payments/{payment_id}/disputes",
        json={"reason": "chargeback"},
        headers=operator_headers(make_token, step_up("refund", payment_id)),
    )

    assert response.status_code == 401
    assert await ops_pool.fetchval("SELECT count(*) FROM disputes") == 0


async def test_disputes_list_and_read(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = str(await seed_payment(ops_pool, now=clock.now()))
    dispute_id = (await open_dispute(ops_api, make_token, step_up, payment_id)).json()["id"]

    listed = await ops_api.get(
        f"/v1/payments/{payment_id}/disputes", headers=operator_headers(make_token)
    )
    read = await ops_api.get(f"/v1/disputes/{dispute_id}", headers=operator_headers(make_token))
    missing = await ops_api.get(
        f"/v1/payments/{dispute_id}/disputes", headers=operator_headers(make_token)
    )

    assert [item["id"] for item in listed.json()["items"]] == [dispute_id]
    assert read.json()["payment_id"] == payment_id
    assert missing.status_code == 404
