"""Refunds over HTTP: step-up, idempotency, the database limit, payouts through the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pyotp
import pytest
from bwai_core.clock import FrozenClock
from bwai_core.db import transaction
from bwai_core.ids import new_id
from bwai_messaging.envelope import new_event
from bwai_payments.refunds.consumers import payout_event_handler
from bwai_payments.refunds.settings import SECRETS_KEY
from bwai_sandbox.settings import SandboxSettings
from bwai_web.service import ServiceContext
from bwai_webhooks_ingest.payouts.normalise import EVENT_TYPE, normalise_payout_ipn
from fastapi import FastAPI
from operations_support import (
    StepUpFactory,
    audit_rows,
    operator_headers,
    payout_secrets_for,
    seed_payment,
)

# The fixtures of operations_support (ops_api, ops_ctx, step_up ...).
pytest_plugins = ("operations_support",)

TokenFactory = Callable[..., str]
ADDRESS = "bc1qcustomerrefundaddress0000000000000000"


def refund_body(amount: str = "0.00050000") -> dict[str, str]:
    return {"amount": amount, "reason": "customer cancelled", "refund_address": ADDRESS}


async def post_refund(
    api: httpx.AsyncClient,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    payment_id: Any,
    *,
    key: str,
    amount: str = "0.00050000",
) -> httpx.Response:
    headers = operator_headers(make_token, step_up("refund", str(payment_id)), key)
    return await api.post(
        f"/v1/payments/{payment_id}/refunds", json=refund_body(amount), headers=headers
    )


async def count(pool: asyncpg.Pool, table: str) -> int:
    value: int = await pool.fetchval(f"SELECT count(*) FROM {table}")
    return value


async def outbox_types(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT payload FROM outbox ORDER BY id")
    return [_event_type(row["payload"]) for row in rows]


def _event_type(payload: Any) -> str:
    from bwai_core import jsonutil

    data = jsonutil.loads(payload) if isinstance(payload, bytes | str) else payload
    return str(data["type"])


async def test_refund_without_step_up_is_challenged(
    ops_api: httpx.AsyncClient, ops_pool: asyncpg.Pool, make_token: TokenFactory, clock: FrozenClock
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())
    headers = operator_headers(make_token, None, "refund-no-step-up")

    response = await ops_api.post(
        f"/v1/payments/{payment_id}/refunds", json=refund_body(), headers=headers
    )

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'action="refund"' in challenge
    assert await count(ops_pool, "refunds") == 0
    assert await count(ops_pool, "operator_audit") == 0


async def test_refund_step_up_for_other_payment_is_rejected(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())
    headers = operator_headers(make_token, step_up("refund", str(new_id())), "refund-other")

    response = await ops_api.post(
        f"/v1/payments/{payment_id}/refunds", json=refund_body(), headers=headers
    )

    assert response.status_code == 401
    assert await count(ops_pool, "refunds") == 0


async def test_refund_by_tenant_is_forbidden(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())
    headers = {"Authorization": f"Bearer {make_token(tenant='acme')}", "Idempotency-Key": "t-1"}

    response = await ops_api.post(
        f"/v1/payments/{payment_id}/refunds", json=refund_body(), headers=headers
    )

    assert response.status_code == 403
    assert await count(ops_pool, "refunds") == 0


async def test_nowpayments_refund_is_verified_payout(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    sandbox_app: FastAPI,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())

    response = await post_refund(ops_api, make_token, step_up, payment_id, key="refund-np-1")

    assert response.status_code == 201, response.text
    refund = response.json()
    assert refund["status"] == "submitted"
    assert refund["method"] == "payout"
    assert refund["amount"] == "0.0005"
    assert refund["currency"] == "btc"
    assert refund["awaiting_verification"] is False
    assert refund["provider_reference"] is not None
    assert "payout" in refund["provider_note"]
    batch = sandbox_app.state.sandbox.state.payouts.batches[refund["provider_reference"]]
    assert batch.verified is True
    assert batch.withdrawals[0].address == ADDRESS
    assert batch.withdrawals[0].amount == Decimal("0.0005")
    assert batch.withdrawals[0].ipn_callback_url == (
        "http://payments.test/v1/webhooks/nowpayments/payouts"
    )
    assert await outbox_types(ops_pool) == [
        "payments.refund.requested",
        "payments.refund.submitted",
    ]


async def test_refund_audit_row_has_request_metadata(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())

    response = await post_refund(ops_api, make_token, step_up, payment_id, key="refund-audit-1")

    assert response.status_code == 201
    rows = await audit_rows(ops_pool, action="refund.requested")
    assert len(rows) == 1
    row = rows[0]
    assert row["actor"] == "client-ops"
    assert row["target_type"] == "refund"
    assert row["target_id"] == response.json()["id"]
    assert row["tenant_id"] == "acme"
    assert row["occurred_at"] == clock.now()
    assert row["client_address"] == "203.0.113.7"
    assert row["user_agent"] == "ops-console/1.0"
    assert row["correlation_id"] == "corr-ops-1"
    assert row["idempotency_key"] == "refund-audit-1"
    assert row["before"] is None
    assert row["after"]["amount"] == "0.0005"


async def test_refund_without_totp_secret_waits_for_code(
    ops_api: httpx.AsyncClient,
    ops_ctx: ServiceContext,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    sandbox_settings: SandboxSettings,
    clock: FrozenClock,
) -> None:
    ops_ctx.extras[SECRETS_KEY] = payout_secrets_for(sandbox_settings, with_totp=False)
    payment_id = await seed_payment(ops_pool, now=clock.now())
    created = await post_refund(ops_api, make_token, step_up, payment_id, key="refund-code-1")
    refund_id = created.json()["id"]
    verify_path = f"/v1/refunds/{refund_id}/verify"

    wrong = await ops_api.post(
        verify_path,
        json={"verification_code": "000000"},
        headers=operator_headers(make_token, step_up("refund", refund_id)),
    )
    code = pyotp.TOTP(sandbox_settings.payout_totp_secret()).at(clock.now())
    right = await ops_api.post(
        verify_path,
        json={"verification_code": code},
        headers=operator_headers(make_token, step_up("refund", refund_id)),
    )

    assert created.status_code == 201
    assert created.json()["status"] == "requested"
    assert created.json()["awaiting_verification"] is True
    assert wrong.status_code == 422
    assert wrong.json()["type"].endswith("payout-verification-rejected")
    assert right.status_code == 200, right.text
    assert right.json()["status"] == "submitted"
    assert right.json()["awaiting_verification"] is False
    assert right.json()["last_error"] is None
    actions = [row["action"] for row in await audit_rows(ops_pool)]
    assert actions == ["refund.requested", "refund.verified", "refund.verified"]


async def test_refund_over_paid_amount_writes_nothing(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())

    response = await post_refund(
        ops_api, make_token, step_up, payment_id, key="refund-over", amount="0.0016"
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("refund-exceeds-paid")
    assert "0.0015" in response.json()["detail"]
    assert await count(ops_pool, "refunds") == 0
    assert await count(ops_pool, "refund_allowances") == 0
    assert await count(ops_pool, "operator_audit") == 0
    assert await count(ops_pool, "outbox") == 0
    assert await count(ops_pool, "transactions") == 0
    stored_key = await ops_pool.fetchval(
        "SELECT count(*) FROM idempotency_keys WHERE key = 'refund-over'"
    )
    assert stored_key == 0


async def test_refund_total_is_limited_by_database(
    ops_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    payment_id = await seed_payment(ops_pool, provider="coinbase_commerce", now=clock.now())
    insert = """
        INSERT INTO refunds (id, payment_id, order_id, tenant_id, provider, method, amount,
            currency, reason, refund_address, requested_by, idempotency_key, created_at,
            updated_at)
        SELECT $1, p.id, p.order_id, p.tenant_id, p.provider, 'manual', $2, 'btc', 'test',
               'addr', 'ops', $3, $4, $4
        FROM payments p WHERE p.id = $5
    """

    await ops_pool.execute(insert, new_id(), Decimal("0.001"), "k1", clock.now(), payment_id)
    with pytest.raises(asyncpg.CheckViolationError):
        await ops_pool.execute(insert, new_id(), Decimal("0.0006"), "k2", clock.now(), payment_id)

    assert await count(ops_pool, "refunds") == 1
    refunded = await ops_pool.fetchval("SELECT refunded FROM refund_allowances")
    assert refunded == Decimal("0.001")


async def test_identical_concurrent_refunds_create_one(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    sandbox_app: FastAPI,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())

    responses = await asyncio.gather(
        *(
            post_refund(ops_api, make_token, step_up, payment_id, key="refund-double-click")
            for _ in range(50)
        )
    )

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    assert 201 in statuses
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    assert await count(ops_pool, "refunds") == 1
    assert len(sandbox_app.state.sandbox.state.payouts.batches) == 1
    assert len(await audit_rows(ops_pool, action="refund.requested")) == 1


async def test_identical_refund_replays_first_response(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())

    first = await post_refund(ops_api, make_token, step_up, payment_id, key="refund-retry")
    second = await post_refund(ops_api, make_token, step_up, payment_id, key="refund-retry")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json() == first.json()
    assert await count(ops_pool, "refunds") == 1


async def test_different_concurrent_refunds_cannot_overshoot(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, provider="coinbase_commerce", now=clock.now())

    responses = await asyncio.gather(
        *(
            post_refund(ops_api, make_token, step_up, payment_id, key=f"split-{i}", amount="0.0004")
            for i in range(10)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [422] * 7
    total = await ops_pool.fetchval("SELECT sum(amount) FROM refunds")
    assert total == Decimal("0.0012")
    refunded = await ops_pool.fetchval("SELECT refunded FROM refund_allowances")
    assert refunded == Decimal("0.0012")


async def test_partially_paid_refund_states_provider_rule(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(
        ops_pool, status="partially_paid", actually_paid=Decimal("0.0006"), now=clock.now()
    )

    over = await post_refund(
        ops_api, make_token, step_up, payment_id, key="partial-over", amount="0.0007"
    )
    within = await post_refund(
        ops_api, make_token, step_up, payment_id, key="partial-ok", amount="0.0006"
    )

    assert over.status_code == 422
    assert within.status_code == 201, within.text
    assert within.json()["partially_paid"] is True
    assert "does not refund" in within.json()["provider_note"]


async def test_nowpayments_refund_rejects_seven_decimals(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())

    response = await post_refund(
        ops_api, make_token, step_up, payment_id, key="places", amount="0.0000001"
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("refund-amount-invalid")
    assert await count(ops_pool, "refunds") == 0


async def test_unpaid_payment_is_not_refundable(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(
        ops_pool, status="confirming", actually_paid=Decimal(0), now=clock.now()
    )

    response = await post_refund(ops_api, make_token, step_up, payment_id, key="unpaid")

    assert response.status_code == 409
    assert response.json()["type"].endswith("payment-not-refundable")


async def test_payout_ipn_completes_refund(
    ops_api: httpx.AsyncClient,
    ops_ctx: ServiceContext,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    sandbox_app: FastAPI,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())
    created = await post_refund(ops_api, make_token, step_up, payment_id, key="refund-ipn")
    batch_id = created.json()["provider_reference"]
    sandbox = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox_app), base_url="http://sandbox.test"
    )
    async with sandbox:
        finished = await sandbox.post(
            f"/sandbox/v1/payouts/{batch_id}/finish", json={"status": "FINISHED"}
        )
        failed_late = await sandbox.post(
            f"/sandbox/v1/payouts/{batch_id}/finish", json={"status": "FAILED"}
        )
    assert finished.status_code == 200, finished.text
    assert failed_late.status_code == 200

    handler = payout_event_handler(ops_ctx)
    deliveries = sandbox_app.state.sandbox.state.deliveries.values()
    bodies = [d.last_body for d in deliveries if d.event in ("FINISHED", "PROCESSING")]
    for body in bodies:
        await _apply_payout_ipn(ops_ctx, handler, body)

    refund = (
        await ops_api.get(
            f"/v1/refunds/{created.json()['id']}", headers=operator_headers(make_token)
        )
    ).json()
    assert refund["status"] == "completed"
    assert refund["provider_status"] == "FINISHED"
    ledger = await ops_pool.fetch("SELECT * FROM transactions WHERE kind = 'refund_sent'")
    assert len(ledger) == 1
    assert ledger[0]["amount"] == Decimal("0.0005")
    assert ledger[0]["debit_account"].startswith("order:")
    assert ledger[0]["credit_account"] == "provider_balance:nowpayments"
    assert (await outbox_types(ops_pool))[-1] == "payments.refund.completed"


async def test_late_failed_payout_ipn_never_moves_back(
    ops_api: httpx.AsyncClient,
    ops_ctx: ServiceContext,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    sandbox_app: FastAPI,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, now=clock.now())
    created = await post_refund(ops_api, make_token, step_up, payment_id, key="refund-late")
    refund_id = created.json()["id"]
    withdrawal = sandbox_app.state.sandbox.state.payouts.batches[
        created.json()["provider_reference"]
    ].withdrawals[0]
    handler = payout_event_handler(ops_ctx)

    for status in ("FINISHED", "FAILED"):
        payload = {**withdrawal.to_json(), "status": status}
        await _apply_payload(ops_ctx, handler, payload)

    row = await ops_pool.fetchrow(
        "SELECT status, failure_reason FROM refunds WHERE id = $1", refund_id
    )
    assert row["status"] == "completed"
    assert row["failure_reason"] is None
    refunded = await ops_pool.fetchval("SELECT refunded FROM refund_allowances")
    assert refunded == Decimal("0.0005")


async def test_coinbase_refund_is_confirmed_by_operator(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, provider="coinbase_commerce", now=clock.now())
    created = await post_refund(ops_api, make_token, step_up, payment_id, key="refund-cb")
    refund_id = created.json()["id"]
    confirm = {"outcome": "completed", "provider_reference": "CB-REFUND-42"}

    first = await ops_api.post(
        f"/v1/refunds/{refund_id}/confirm",
        json=confirm,
        headers=operator_headers(make_token, step_up("refund", refund_id)),
    )
    repeat = await ops_api.post(
        f"/v1/refunds/{refund_id}/confirm",
        json=confirm,
        headers=operator_headers(make_token, step_up("refund", refund_id)),
    )

    assert created.status_code == 201
    assert created.json()["method"] == "manual"
    assert created.json()["status"] == "requested"
    assert "dashboard" in created.json()["provider_note"]
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "completed"
    assert first.json()["provider_reference"] == "CB-REFUND-42"
    assert repeat.status_code == 200
    assert repeat.json() == first.json()
    assert await count(ops_pool, "transactions") == 1
    audit = await audit_rows(ops_pool, action="refund.confirmed")
    assert len(audit) == 1
    assert audit[0]["before"]["status"] == "requested"
    assert audit[0]["after"]["status"] == "completed"


async def test_failed_refund_frees_its_amount(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, provider="coinbase_commerce", now=clock.now())
    first = await post_refund(
        ops_api, make_token, step_up, payment_id, key="cb-full-1", amount="0.0015"
    )
    refund_id = first.json()["id"]
    await ops_api.post(
        f"/v1/refunds/{refund_id}/confirm",
        json={"outcome": "failed", "provider_reference": "CB-X", "note": "address rejected"},
        headers=operator_headers(make_token, step_up("refund", refund_id)),
    )

    second = await post_refund(
        ops_api, make_token, step_up, payment_id, key="cb-full-2", amount="0.0015"
    )

    assert second.status_code == 201, second.text
    statuses = await ops_pool.fetch("SELECT status FROM refunds ORDER BY id")
    assert [row["status"] for row in statuses] == ["failed", "requested"]


async def test_refund_lists_and_reads(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    payment_id = await seed_payment(ops_pool, provider="coinbase_commerce", now=clock.now())
    created = await post_refund(ops_api, make_token, step_up, payment_id, key="list-1")

    listed = await ops_api.get(
        f"/v1/payments/{payment_id}/refunds", headers=operator_headers(make_token)
    )
    tenant = await ops_api.get(
        f"/v1/refunds/{created.json()['id']}",
        headers={"Authorization": f"Bearer {make_token(tenant='acme')}"},
    )
    stranger = await ops_api.get(
        f"/v1/refunds/{created.json()['id']}",
        headers={"Authorization": f"Bearer {make_token(tenant='other')}"},
    )

    assert [item["id"] for item in listed.json()["items"]] == [created.json()["id"]]
    assert tenant.status_code == 200
    assert stranger.status_code == 404


async def _apply_payout_ipn(ctx: ServiceContext, handler: Any, body: bytes | None) -> None:
    from bwai_core import jsonutil

    assert body is not None
    await _apply_payload(ctx, handler, jsonutil.loads_decimal(body))


async def _apply_payload(ctx: ServiceContext, handler: Any, payload: dict[str, Any]) -> None:
    data = normalise_payout_ipn(payload, delivery_id=new_id(), received_at=ctx.clock.now())
    event = new_event(
        EVENT_TYPE, data, source="/services/webhooks-ingest", clock=ctx.clock, subject="x"
    )
    ctx.schemas.validate(event)
    async with transaction(ctx.pool) as conn:
        await handler(conn, event)
