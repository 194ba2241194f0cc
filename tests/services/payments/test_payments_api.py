"""Payment initiation over HTTP: one provider checkout per key, the provider wire formats,
ambiguous failures and the one-active-payment rule."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from bwai_messaging.envelope import Event
from bwai_payments import events
from bwai_payments.idempotent import Completion
from bwai_payments.payments import repository
from bwai_web import idempotency
from bwai_web.service import ServiceContext
from payments_fakes import FakeProviders

ORDER = {"amount": "49.99", "currency": "USD", "description": "Website, one year"}


def headers(token: str, key: str | None = None) -> dict[str, str]:
    result = {"Authorization": f"Bearer {token}"}
    if key is not None:
        result["Idempotency-Key"] = key
    return result


async def new_order(api: httpx.AsyncClient, token: str) -> str:
    response = await api.post("/v1/orders", json=ORDER, headers=headers(token, uuid.uuid4().hex))
    order_id: str = response.json()["id"]
    return order_id


async def initiate(
    api: httpx.AsyncClient,
    token: str,
    order_id: str,
    key: str | None = None,
    provider: str = "nowpayments",
) -> httpx.Response:
    return await api.post(
        f"/v1/orders/{order_id}/payments",
        json={"provider": provider, "pay_currency": "btc"},
        headers=headers(token, key or uuid.uuid4().hex),
    )


async def count(ctx: ServiceContext, table: str) -> int:
    value: int = await ctx.pool.fetchval(f"SELECT count(*) FROM {table}")
    return value


async def test_nowpayments_invoice_request_format(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)

    response = await initiate(api, token, order_id)

    assert response.status_code == 201
    body = response.json()
    request = providers.create_requests[0]
    sent = json.loads(request.content)
    assert request.url.path == "/nowpayments/v1/invoice"
    assert request.headers["x-api-key"] == "np-test-key"
    assert b'"price_amount":49.99' in request.content
    assert sent["price_currency"] == "usd"
    assert sent["pay_currency"] == "btc"
    assert sent["order_id"] == body["id"]
    assert sent["ipn_callback_url"] == "http://127.0.0.1:8000/v1/webhooks/nowpayments"
    assert body["provider_checkout_id"] == providers.invoices[0]["id"]
    assert body["checkout_url"] == providers.invoices[0]["invoice_url"]
    assert body["status"] == "pending"


async def test_coinbase_charge_request_format(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)

    response = await initiate(api, token, order_id, provider="coinbase_commerce")

    assert response.status_code == 201
    body = response.json()
    request = providers.create_requests[0]
    sent = json.loads(request.content)
    assert request.url.path == "/coinbase/charges"
    assert request.headers["x-cc-api-key"] == "cb-test-key"
    assert request.headers["x-cc-version"] == "2018-03-22"
    assert sent["local_price"] == {"amount": "49.99", "currency": "USD"}
    assert sent["metadata"] == {"order_id": order_id, "payment_id": body["id"], "tenant_id": "t1"}
    assert body["provider_payment_id"] == providers.charges[0]["id"]
    assert body["amount_due"] == "0.00152"


async def test_initiation_enqueues_payment_initiated(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)

    payment = (await initiate(api, token, order_id)).json()

    rows = await ctx.pool.fetch(
        "SELECT payload FROM outbox WHERE event_type = 'payments.payment.initiated'"
    )
    assert len(rows) == 1
    event = Event.from_bytes(bytes(rows[0]["payload"]))
    assert event.data["payment_id"] == payment["id"]
    assert event.data["amount"] == "49.99"


async def test_concurrent_initiations_with_one_key_make_one_checkout(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)
    providers.create_delay_s = 0.05

    responses = await asyncio.gather(
        *(initiate(api, token, order_id, key="pay-storm") for _ in range(100))
    )
    replay = await initiate(api, token, order_id, key="pay-storm")

    assert {r.status_code for r in responses} <= {201, 409}
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
    assert len(providers.create_requests) == 1
    assert await count(ctx, "payments") == 1
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"


async def test_second_payment_while_one_is_active_is_409(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)
    await initiate(api, token, order_id)

    response = await initiate(api, token, order_id)

    assert response.status_code == 409
    assert response.json()["type"].endswith("/payment-already-active")
    assert len(providers.create_requests) == 1
    assert await count(ctx, "payments") == 1


async def test_new_payment_after_expiry_is_allowed(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)
    first = (await initiate(api, token, order_id)).json()
    await ctx.pool.execute(
        "UPDATE payments SET status = 'expired', is_active = false WHERE id = $1",
        uuid.UUID(first["id"]),
    )

    response = await initiate(api, token, order_id)

    assert response.status_code == 201
    assert await count(ctx, "payments") == 2


async def test_cancelled_order_is_not_payable(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)
    await api.post(f"/v1/orders/{order_id}/cancel", headers=headers(token))

    response = await initiate(api, token, order_id)

    assert response.status_code == 409
    assert response.json()["type"].endswith("/order-not-payable")
    assert providers.create_requests == []


async def test_other_tenants_order_is_404(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders
) -> None:
    order_id = await new_order(api, make_token(tenant="t1"))

    response = await initiate(api, make_token(tenant="t2"), order_id)

    assert response.status_code == 404
    assert providers.create_requests == []


async def test_read_timeout_looks_up_before_creating_again(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)
    providers.fail_after_store = httpx.ReadTimeout("read timed out")

    response = await initiate(api, token, order_id)

    assert response.status_code == 201
    assert len(providers.create_requests) == 1
    assert len(providers.lookup_requests) == 1
    assert response.json()["provider_checkout_id"] == providers.invoices[0]["id"]
    assert await count(ctx, "payments") == 1


async def test_coinbase_read_timeout_finds_charge_by_metadata(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)
    providers.fail_after_store = httpx.ReadTimeout("read timed out")

    response = await initiate(api, token, order_id, provider="coinbase_commerce")

    assert response.status_code == 201
    assert len(providers.create_requests) == 1
    assert response.json()["provider_checkout_id"] == providers.charges[0]["id"]


async def test_refused_connection_is_retried_then_503(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    providers.on_create = refuse

    response = await initiate(api, token, order_id, key="retry-me")

    assert response.status_code == 503
    assert response.json()["type"].endswith("/provider-unavailable")
    assert len(providers.create_requests) == 3
    assert providers.lookup_requests == []
    assert await count(ctx, "payments") == 0
    providers.on_create = None
    assert (await initiate(api, token, order_id, key="retry-me")).status_code == 201


async def test_provider_4xx_is_502_with_message(
    api: httpx.AsyncClient, make_token: Any, providers: FakeProviders, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)
    providers.on_create = lambda request: httpx.Response(
        400,
        json={"status": False, "code": "AMOUNT_MINIMAL_ERROR", "message": "amountTo is too small"},
    )

    response = await initiate(api, token, order_id)

    assert response.status_code == 502
    assert response.json()["type"].endswith("/provider-rejected")
    assert "amountTo is too small" in response.json()["detail"]
    assert await count(ctx, "payments") == 0


async def test_get_payment_is_tenant_scoped(api: httpx.AsyncClient, make_token: Any) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)
    payment = (await initiate(api, token, order_id)).json()

    own = await api.get(f"/v1/payments/{payment['id']}", headers=headers(token))
    other = await api.get(f"/v1/payments/{payment['id']}", headers=headers(make_token(tenant="t2")))

    assert own.status_code == 200
    assert own.json()["id"] == payment["id"]
    assert other.status_code == 404


@pytest.mark.parametrize("provider", ["nowpayments", "coinbase_commerce"])
async def test_initiation_response_matches_stored_payment(
    api: httpx.AsyncClient, make_token: Any, provider: str
) -> None:
    token = make_token(tenant="t1")
    order_id = await new_order(api, token)

    created = await initiate(api, token, order_id, key="same-row", provider=provider)
    replay = await initiate(api, token, order_id, key="same-row", provider=provider)
    stored = await api.get(f"/v1/payments/{created.json()['id']}", headers=headers(token))

    assert created.status_code == 201
    assert stored.json() == created.json()
    assert replay.content == created.content


async def test_unpayable_order_records_nothing(
    api: httpx.AsyncClient, make_token: Any, ctx: ServiceContext
) -> None:
    token = make_token(tenant="t1")
    order_id = uuid.UUID(await new_order(api, token))
    await ctx.pool.execute("UPDATE orders SET status = 'cancelled' WHERE id = $1", order_id)
    await idempotency.claim(ctx.pool, scope="t1", key="late", fingerprint=b"f", clock=ctx.clock)
    outbox_before = await count(ctx, "outbox")
    completion = Completion("t1", "late")
    row = repository.new_payment_row(
        payment_id=uuid.uuid4(),
        order_id=order_id,
        tenant_id="t1",
        provider="nowpayments",
        checkout_id="inv-late",
        provider_payment_id=None,
        checkout_url="https://sandbox.example/inv-late",
        pay_currency="btc",
        amount_due=None,
        expires_at=None,
        now=ctx.clock.now(),
    )
    order_body = {"amount": "49.99", "currency": "USD"}

    recorded = await repository.record_payment(
        ctx.pool,
        row,
        initiated=events.payment_initiated(row, order_body, ctx.clock),
        schemas=ctx.schemas,
        completion=completion,
        response=completion.prepare(201, {"id": str(row["id"])}, {}),
        trace_context=None,
    )

    assert recorded == repository.Recorded(inserted=False, completed=False)
    payments = "SELECT count(*) FROM payments WHERE order_id = $1"
    assert await ctx.pool.fetchval(payments, order_id) == 0
    assert await count(ctx, "outbox") == outbox_before
    state = await ctx.pool.fetchval(
        "SELECT state FROM idempotency_keys WHERE scope = 't1' AND key = 'late'"
    )
    assert state == "in_flight"
