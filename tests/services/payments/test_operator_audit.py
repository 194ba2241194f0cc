"""The operator audit: append-only in the database, readable by operators, and written by
every mutating route of the payments app when an operator calls it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pyotp
import pytest
from bwai_core.clock import FrozenClock
from bwai_payments.app import create_app
from bwai_payments.refunds.settings import SECRETS_KEY
from bwai_sandbox.settings import SandboxSettings
from bwai_web.service import ServiceContext
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
MUTATING = {"post", "put", "patch", "delete"}


@dataclass
class Walk:
    """What a route recipe needs: the API, the database, tokens and the sandbox settings."""

    api: httpx.AsyncClient
    pool: asyncpg.Pool
    ctx: ServiceContext
    make_token: TokenFactory
    step_up: StepUpFactory
    clock: FrozenClock
    sandbox: SandboxSettings

    def headers(self, step_up: tuple[str, str] | None = None, key: str | None = None) -> Any:
        token = self.step_up(*step_up) if step_up else None
        return operator_headers(self.make_token, token, key)


Recipe = Callable[[Walk], Awaitable[str]]


async def _create_order(walk: Walk) -> str:
    response = await walk.api.post(
        "/v1/orders",
        json={"amount": "49.99", "currency": "USD", "tenant": "acme"},
        headers=walk.headers(key="walk-order"),
    )
    assert response.status_code == 201, response.text
    return "order.created"


async def _open_order(walk: Walk, key: str) -> str:
    response = await walk.api.post(
        "/v1/orders",
        json={"amount": "10.00", "currency": "USD", "tenant": "acme"},
        headers={
            "Authorization": f"Bearer {walk.make_token(tenant='acme')}",
            "Idempotency-Key": key,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _initiate_payment(walk: Walk) -> str:
    order_id = await _open_order(walk, "walk-pay-order")
    response = await walk.api.post(
        f"/v1/orders/{order_id}/payments",
        json={"provider": "nowpayments", "pay_currency": "btc"},
        headers=walk.headers(key="walk-pay"),
    )
    assert response.status_code == 201, response.text
    return "payment.initiated"


async def _cancel_order(walk: Walk) -> str:
    order_id = await _open_order(walk, "walk-cancel-order")
    response = await walk.api.post(f"/v1/orders/{order_id}/cancel", headers=walk.headers())
    assert response.status_code == 200, response.text
    return "order.cancelled"


async def _refund(walk: Walk) -> str:
    payment_id = str(await seed_payment(walk.pool, now=walk.clock.now()))
    response = await walk.api.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"amount": "0.0001", "reason": "walk", "refund_address": "bc1qwalk"},
        headers=walk.headers(("refund", payment_id), key="walk-refund"),
    )
    assert response.status_code == 201, response.text
    return "refund.requested"


async def _verify_refund(walk: Walk) -> str:
    walk.ctx.extras[SECRETS_KEY] = payout_secrets_for(walk.sandbox, with_totp=False)
    payment_id = str(await seed_payment(walk.pool, now=walk.clock.now()))
    created = await walk.api.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"amount": "0.0001", "reason": "walk", "refund_address": "bc1qwalk"},
        headers=walk.headers(("refund", payment_id), key="walk-verify"),
    )
    refund_id = created.json()["id"]
    code = pyotp.TOTP(walk.sandbox.payout_totp_secret()).at(walk.clock.now())
    response = await walk.api.post(
        f"/v1/refunds/{refund_id}/verify",
        json={"verification_code": code},
        headers=walk.headers(("refund", refund_id)),
    )
    assert response.status_code == 200, response.text
    return "refund.verified"


async def _confirm_refund(walk: Walk) -> str:
    payment_id = str(
        await seed_payment(walk.pool, provider="coinbase_commerce", now=walk.clock.now())
    )
    created = await walk.api.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"amount": "0.0001", "reason": "walk", "refund_address": "0xwalk"},
        headers=walk.headers(("refund", payment_id), key="walk-confirm"),
    )
    refund_id = created.json()["id"]
    response = await walk.api.post(
        f"/v1/refunds/{refund_id}/confirm",
        json={"provider_reference": "CB-WALK"},
        headers=walk.headers(("refund", refund_id)),
    )
    assert response.status_code == 200, response.text
    return "refund.confirmed"


async def _open_dispute(walk: Walk) -> str:
    payment_id = str(await seed_payment(walk.pool, now=walk.clock.now()))
    response = await walk.api.post(
        f"/v1/payments/{payment_id}/disputes",
        json={"reason": "walk"},
        headers=walk.headers(("dispute", payment_id)),
    )
    assert response.status_code == 201, response.text
    return "dispute.opened"


async def _resolve_dispute(walk: Walk) -> str:
    payment_id = str(await seed_payment(walk.pool, now=walk.clock.now()))
    opened = await walk.api.post(
        f"/v1/payments/{payment_id}/disputes",
        json={"reason": "walk"},
        headers=walk.headers(("dispute", payment_id)),
    )
    dispute_id = opened.json()["id"]
    response = await walk.api.post(
        f"/v1/disputes/{dispute_id}/resolve",
        json={"outcome": "withdrawn", "note": "walk"},
        headers=walk.headers(("dispute", dispute_id)),
    )
    assert response.status_code == 200, response.text
    return "dispute.resolved"


async def _request_run(walk: Walk) -> str:
    day = (walk.clock.now() - timedelta(days=1)).date().isoformat()
    response = await walk.api.post(
        "/v1/reconciliation/runs",
        params={"wait": "true"},
        json={"provider": "coinbase_commerce", "day": day},
        headers=walk.headers(),
    )
    assert response.status_code in (201, 202), response.text
    return "reconciliation.run.requested"


async def _import_csv(walk: Walk) -> str:
    response = await _upload(walk)
    assert response.status_code == 201, response.text
    return "reconciliation.import.uploaded"


async def _resolve_record(walk: Walk) -> str:
    await _upload(walk)
    record_id = await walk.pool.fetchval(
        "SELECT id FROM reconciliation_records WHERE outcome <> 'matched' ORDER BY id LIMIT 1"
    )
    response = await walk.api.post(
        f"/v1/reconciliation/records/{record_id}/resolve",
        json={"note": "known test payment"},
        headers=walk.headers(),
    )
    assert response.status_code == 200, response.text
    return "reconciliation.record.resolved"


async def _upload(walk: Walk) -> httpx.Response:
    csv_text = (
        "provider,provider_payment_id,status,pay_currency,actually_paid,outcome_amount,"
        "outcome_currency,updated_at\n"
        "nowpayments,999000111,finished,btc,0.0015,0.00149,btc,2026-01-14T10:00:00Z\n"
    )
    headers = {**walk.headers(), "Content-Type": "text/csv"}
    return await walk.api.post("/v1/reconciliation/imports", content=csv_text, headers=headers)


# Every mutating route of the payments app and how an operator calls it successfully. A new
# mutating route fails the walk until it gets a recipe here, and with it an audit row.
RECIPES: dict[tuple[str, str], Recipe] = {
    ("post", "/v1/orders"): _create_order,
    ("post", "/v1/orders/{order_id}/payments"): _initiate_payment,
    ("post", "/v1/orders/{order_id}/cancel"): _cancel_order,
    ("post", "/v1/payments/{payment_id}/refunds"): _refund,
    ("post", "/v1/refunds/{refund_id}/verify"): _verify_refund,
    ("post", "/v1/refunds/{refund_id}/confirm"): _confirm_refund,
    ("post", "/v1/payments/{payment_id}/disputes"): _open_dispute,
    ("post", "/v1/disputes/{dispute_id}/resolve"): _resolve_dispute,
    ("post", "/v1/reconciliation/runs"): _request_run,
    ("post", "/v1/reconciliation/imports"): _import_csv,
    ("post", "/v1/reconciliation/records/{record_id}/resolve"): _resolve_record,
}


def mutating_routes(ctx: ServiceContext) -> list[tuple[str, str]]:
    """List (method, path) of every mutating operation in the app's OpenAPI document."""
    document = create_app(ctx).openapi()
    return sorted(
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in MUTATING
    )


async def test_every_mutating_route_writes_audit_row(
    ops_api: httpx.AsyncClient,
    ops_ctx: ServiceContext,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    sandbox_settings: SandboxSettings,
    clock: FrozenClock,
) -> None:
    walk = Walk(ops_api, ops_pool, ops_ctx, make_token, step_up, clock, sandbox_settings)
    routes = mutating_routes(ops_ctx)
    assert routes, "the app lists no mutating routes"

    missing = [route for route in routes if route not in RECIPES]
    assert not missing, f"mutating routes without an audit recipe: {missing}"

    for route in routes:
        before = len(await audit_rows(ops_pool))
        action = await RECIPES[route](walk)
        new_rows = (await audit_rows(ops_pool))[before:]
        actions = [row["action"] for row in new_rows]
        assert action in actions, f"{route} wrote no {action!r} audit row (wrote {actions})"
        assert all(row["actor"] == "client-ops" for row in new_rows), route


async def test_tenant_actions_write_no_audit_row(
    ops_api: httpx.AsyncClient, ops_pool: asyncpg.Pool, make_token: TokenFactory
) -> None:
    response = await ops_api.post(
        "/v1/orders",
        json={"amount": "5.00", "currency": "USD"},
        headers={"Authorization": f"Bearer {make_token(tenant='acme')}", "Idempotency-Key": "t"},
    )

    assert response.status_code == 201
    assert await audit_rows(ops_pool) == []


async def test_audit_rows_cannot_change(ops_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    await ops_pool.execute(
        """
        INSERT INTO operator_audit (id, actor, action, occurred_at, target_type, target_id)
        VALUES (gen_random_uuid(), 'ops', 'order.created', $1, 'order', 'o-1')
        """,
        clock.now(),
    )

    for statement in (
        "UPDATE operator_audit SET actor = 'someone else'",
        "DELETE FROM operator_audit",
        "TRUNCATE operator_audit",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await ops_pool.execute(statement)

    rows = await audit_rows(ops_pool)
    assert len(rows) == 1
    assert rows[0]["actor"] == "ops"


async def test_audit_list_filters_and_pages(
    ops_api: httpx.AsyncClient,
    ops_pool: asyncpg.Pool,
    make_token: TokenFactory,
    step_up: StepUpFactory,
    clock: FrozenClock,
) -> None:
    for key in ("a", "b", "c"):
        await ops_api.post(
            "/v1/orders",
            json={"amount": "1.00", "currency": "USD", "tenant": "acme"},
            headers=operator_headers(make_token, None, f"audit-list-{key}"),
        )
    payment_id = str(await seed_payment(ops_pool, now=clock.now()))
    await ops_api.post(
        f"/v1/payments/{payment_id}/disputes",
        json={"reason": "x"},
        headers=operator_headers(make_token, step_up("dispute", payment_id)),
    )
    headers = operator_headers(make_token)

    first = await ops_api.get(
        "/v1/audit", params={"action": "order.created", "limit": 2}, headers=headers
    )
    second = await ops_api.get(
        "/v1/audit",
        params={"action": "order.created", "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    disputes = await ops_api.get("/v1/audit", params={"target_type": "dispute"}, headers=headers)
    later = await ops_api.get(
        "/v1/audit",
        params={"occurred_from": (clock.now() + timedelta(seconds=1)).isoformat()},
        headers=headers,
    )
    by_actor = await ops_api.get("/v1/audit", params={"actor": "nobody"}, headers=headers)

    assert len(first.json()["items"]) == 2
    assert len(second.json()["items"]) == 1
    assert second.json()["next_cursor"] is None
    assert [i["action"] for i in disputes.json()["items"]] == ["dispute.opened"]
    assert later.json()["items"] == []
    assert by_actor.json()["items"] == []


async def test_audit_list_is_for_operators(
    ops_api: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    response = await ops_api.get(
        "/v1/audit", headers={"Authorization": f"Bearer {make_token(tenant='acme')}"}
    )

    assert response.status_code == 403
