"""Orders over HTTP: create once per key, read, list, cancel, tenant isolation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from bwai_messaging.envelope import Event
from bwai_web.service import ServiceContext

ORDER = {
    "amount": "49.99",
    "currency": "USD",
    "description": "Website, one year",
    "metadata": {"plan": "pro"},
    "success_url": "https://shop.example.test/ok",
    "cancel_url": "https://shop.example.test/cancel",
}


def headers(token: str, key: str | None = None) -> dict[str, str]:
    result = {"Authorization": f"Bearer {token}"}
    if key is not None:
        result["Idempotency-Key"] = key
    return result


async def create(
    api: httpx.AsyncClient, token: str, body: dict[str, Any] | None = None, key: str | None = None
) -> httpx.Response:
    return await api.post(
        "/v1/orders", json=body or ORDER, headers=headers(token, key or uuid.uuid4().hex)
    )


async def count(ctx: ServiceContext, table: str) -> int:
    value: int = await ctx.pool.fetchval(f"SELECT count(*) FROM {table}")
    return value


async def test_create_order_returns_amount_as_string(
    api: httpx.AsyncClient, make_token: Any
) -> None:
    response = await create(api, make_token(tenant="t1"))

    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "49.99"
    assert body["status"] == "open"
    assert body["tenant_id"] == "t1"
    assert response.headers["location"] == f"/v1/orders/{body['id']}"


async def test_create_order_enqueues_order_created(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    response = await create(api, make_token(tenant="t1"))

    rows = await ctx.pool.fetch("SELECT event_type, payload FROM outbox")
    assert [row["event_type"] for row in rows] == ["payments.order.created"]
    event = Event.from_bytes(bytes(rows[0]["payload"]))
    assert event.data["order_id"] == response.json()["id"]
    assert event.data["amount"] == "49.99"


async def test_order_reads_back_after_create(api: httpx.AsyncClient, make_token: Any) -> None:
    token = make_token(tenant="t1")
    created = (await create(api, token)).json()

    response = await api.get(f"/v1/orders/{created['id']}", headers=headers(token))

    assert response.status_code == 200
    assert response.json() == created


async def test_other_tenant_gets_404(api: httpx.AsyncClient, make_token: Any) -> None:
    created = (await create(api, make_token(tenant="t1"))).json()

    response = await api.get(
        f"/v1/orders/{created['id']}", headers=headers(make_token(tenant="t2"))
    )

    assert response.status_code == 404
    assert response.json()["type"].endswith("/order-not-found")


async def test_operator_sees_any_tenant(api: httpx.AsyncClient, make_token: Any) -> None:
    created = (await create(api, make_token(tenant="t1"))).json()

    response = await api.get(
        f"/v1/orders/{created['id']}", headers=headers(make_token(role="operator"))
    )

    assert response.status_code == 200


async def test_operator_must_name_tenant(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    operator = make_token(role="operator")

    missing = await create(api, operator)
    named = await create(api, operator, {**ORDER, "tenant": "t9"})

    assert missing.status_code == 422
    assert missing.json()["type"].endswith("/tenant-required")
    assert named.status_code == 201
    assert named.json()["tenant_id"] == "t9"
    assert await count(ctx, "orders") == 1


async def test_amount_as_json_number_is_rejected(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    response = await create(api, make_token(tenant="t1"), {**ORDER, "amount": 49.99})

    assert response.status_code == 422
    assert any(e["field"] == "amount" for e in response.json()["errors"])
    assert await count(ctx, "orders") == 0


async def test_amount_with_too_many_places_is_rejected(
    api: httpx.AsyncClient, make_token: Any
) -> None:
    usd = await create(api, make_token(tenant="t1"), {**ORDER, "amount": "1.999"})
    jpy = await create(
        api, make_token(tenant="t1"), {**ORDER, "amount": "100.5", "currency": "JPY"}
    )

    assert usd.status_code == 422
    assert jpy.status_code == 422


async def test_missing_idempotency_key_is_400(api: httpx.AsyncClient, make_token: Any) -> None:
    response = await api.post("/v1/orders", json=ORDER, headers=headers(make_token(tenant="t1")))

    assert response.status_code == 400
    assert response.json()["type"].endswith("/idempotency-key-missing")


async def test_oversized_metadata_is_rejected(api: httpx.AsyncClient, make_token: Any) -> None:
    response = await create(api, make_token(tenant="t1"), {**ORDER, "metadata": {"x": "y" * 5000}})

    assert response.status_code == 422


async def test_same_key_replays_first_response(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")

    first = await create(api, token, key="k-1")
    second = await create(api, token, key="k-1")

    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await count(ctx, "orders") == 1


async def test_same_key_other_amount_is_422(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    await create(api, token, key="k-1")

    response = await create(api, token, {**ORDER, "amount": "50.00"}, key="k-1")

    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert await count(ctx, "orders") == 1


async def test_keys_are_scoped_per_tenant(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    await create(api, make_token(tenant="t1"), key="shared")
    response = await create(api, make_token(tenant="t2"), key="shared")

    assert response.status_code == 201
    assert await count(ctx, "orders") == 2


async def test_concurrent_creates_with_one_key_make_one_order(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")

    responses = await asyncio.gather(*(create(api, token, key="storm") for _ in range(100)))

    statuses = sorted({r.status_code for r in responses})
    assert set(statuses) <= {201, 409}
    created_ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created_ids) == 1
    assert await count(ctx, "orders") == 1
    assert await count(ctx, "outbox") == 1


async def test_list_filters_and_pages(api: httpx.AsyncClient, make_token: Any) -> None:
    token = make_token(tenant="t1")
    ids = [(await create(api, token)).json()["id"] for _ in range(5)]
    await create(api, make_token(tenant="t2"))
    await api.post(f"/v1/orders/{ids[0]}/cancel", headers=headers(token))

    first = (await api.get("/v1/orders?limit=3", headers=headers(token))).json()
    second = (
        await api.get(f"/v1/orders?limit=3&cursor={first['next_cursor']}", headers=headers(token))
    ).json()
    cancelled = (await api.get("/v1/orders?status=cancelled", headers=headers(token))).json()

    assert [o["id"] for o in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next_cursor"] is None
    assert [o["id"] for o in cancelled["items"]] == [ids[0]]


async def test_cancel_open_order(api: httpx.AsyncClient, make_token: Any) -> None:
    token = make_token(tenant="t1")
    order = (await create(api, token)).json()

    response = await api.post(f"/v1/orders/{order['id']}/cancel", headers=headers(token))
    again = await api.post(f"/v1/orders/{order['id']}/cancel", headers=headers(token))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert again.status_code == 200


async def test_cancel_paid_order_is_409(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order = (await create(api, token)).json()
    await ctx.pool.execute(
        "UPDATE orders SET status = 'paid' WHERE id = $1", uuid.UUID(order["id"])
    )

    response = await api.post(f"/v1/orders/{order['id']}/cancel", headers=headers(token))

    assert response.status_code == 409
    assert response.json()["type"].endswith("/order-not-cancellable")
    assert (await api.get(f"/v1/orders/{order['id']}", headers=headers(token))).json()[
        "status"
    ] == "paid"


async def test_cancel_other_tenants_order_is_404(api: httpx.AsyncClient, make_token: Any) -> None:
    order = (await create(api, make_token(tenant="t1"))).json()

    response = await api.post(
        f"/v1/orders/{order['id']}/cancel", headers=headers(make_token(tenant="t2"))
    )

    assert response.status_code == 404


async def test_request_without_token_is_401(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/orders")

    assert response.status_code == 401
