"""The service app factory: problem+json, request context, body limits, health and readiness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import structlog
from bwai_core.clock import FrozenClock
from bwai_core.errors import NotFound
from bwai_core.settings import ServiceSettings
from bwai_web.app import create_service_app
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from structlog.testing import capture_logs
from web_support import StaticJWKS, make_context, verifier_for

MAX_BODY = 2048


class Order(BaseModel):
    amount: str = Field(pattern=r"^\d+(\.\d+)?$")
    currency: str = Field(min_length=3, max_length=3)


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/orders")
    async def create_order(order: Order) -> dict[str, str]:
        return {"amount": order.amount}

    @router.get("/orders/{order_id}")
    async def get_order(order_id: str) -> dict[str, str]:
        raise NotFound(f"order {order_id} not found", order_id=order_id)

    @router.get("/context")
    async def context() -> dict[str, Any]:
        return dict(structlog.contextvars.get_contextvars())

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("database password is hunter2")

    @router.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @router.post("/large")
    async def large(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return router


@pytest.fixture
async def client(
    web_pool: asyncpg.Pool, clock: FrozenClock, jwks: StaticJWKS
) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(environment="test", max_body_bytes=MAX_BODY)
    ctx = make_context(pool=web_pool, clock=clock, verifier=verifier_for(jwks), settings=settings)
    await ctx.bus.connect()
    app = create_service_app(
        ctx, title="test", routers=[_router()], body_limits={"/large": 8 * MAX_BODY}
    )
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await ctx.bus.close()


async def test_service_error_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/orders/abc")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://errors.buildwithai.dev/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "order abc not found",
        "instance": "/orders/abc",
        "order_id": "abc",
    }


async def test_validation_error_names_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={"amount": "12,50"})

    body = response.json()
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert body["type"] == "https://errors.buildwithai.dev/validation-failed"
    assert {error["field"] for error in body["errors"]} == {"amount", "currency"}
    assert all(error["message"] for error in body["errors"])


async def test_malformed_json_is_validation_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders", content=b'{"amount": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation-failed")


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://errors.buildwithai.dev/not-found"


async def test_wrong_method_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.delete("/orders")

    assert response.status_code == 405
    assert response.json()["type"] == "https://errors.buildwithai.dev/method-not-allowed"
    assert "allow" in response.headers


async def test_unexpected_error_is_500_without_internals(client: httpx.AsyncClient) -> None:
    with capture_logs() as logs:
        response = await client.get("/crash", headers={"X-Request-Id": "req-crash"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-crash"
    assert "hunter2" not in response.text
    assert response.json()["type"] == "https://errors.buildwithai.dev/internal-error"
    assert [entry["event"] for entry in logs] == ["http.request.failed", "http.request.completed"]
    assert logs[1]["status"] == 500


async def test_request_ids_are_echoed_and_bound(client: httpx.AsyncClient) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    headers = {
        "X-Request-Id": "req-1",
        "X-Correlation-Id": "corr-1",
        "traceparent": traceparent,
    }

    response = await client.get("/context", headers=headers)

    assert response.headers["x-request-id"] == "req-1"
    assert response.headers["x-correlation-id"] == "corr-1"
    assert response.json() == {
        "service": "test",
        "request_id": "req-1",
        "correlation_id": "corr-1",
        "traceparent": traceparent,
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
    }


async def test_missing_ids_are_generated(client: httpx.AsyncClient) -> None:
    response = await client.get("/context", headers={"traceparent": "not-a-traceparent"})

    bound = response.json()
    assert response.headers["x-request-id"] == bound["request_id"]
    assert bound["correlation_id"] == bound["request_id"]
    assert bound["traceparent"] != "not-a-traceparent"
    assert bound["traceparent"].startswith("00-")


async def test_context_does_not_leak_after_request(client: httpx.AsyncClient) -> None:
    await client.get("/context", headers={"X-Request-Id": "req-leak"})

    assert "request_id" not in structlog.contextvars.get_contextvars()


async def test_completed_line_is_logged_once(client: httpx.AsyncClient) -> None:
    with capture_logs() as logs:
        await client.get("/orders/abc")

    completed = [entry for entry in logs if entry["event"] == "http.request.completed"]
    assert len(completed) == 1
    assert completed[0]["method"] == "GET"
    assert completed[0]["route"] == "/orders/{order_id}"
    assert completed[0]["status"] == 404
    assert completed[0]["duration_ms"] >= 0


async def test_body_over_content_length_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", content=b"x" * (MAX_BODY + 1))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://errors.buildwithai.dev/payload-too-large"


async def test_streamed_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1024

    response = await client.post("/raw", content=chunks())

    assert response.status_code == 413
    assert response.json()["type"] == "https://errors.buildwithai.dev/payload-too-large"


async def test_body_over_limit_on_json_route_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders",
        content=b'{"amount": "1", "currency": "' + b"x" * MAX_BODY + b'"}',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413


async def test_body_within_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", content=b"x" * MAX_BODY)

    assert response.status_code == 200
    assert response.json() == {"size": MAX_BODY}


async def test_route_may_raise_its_body_limit(client: httpx.AsyncClient) -> None:
    response = await client.post("/large", content=b"x" * (4 * MAX_BODY))

    assert response.status_code == 200
    assert response.json() == {"size": 4 * MAX_BODY}


async def test_route_limit_still_applies(client: httpx.AsyncClient) -> None:
    response = await client.post("/large", content=b"x" * (8 * MAX_BODY + 1))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_healthz_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_each_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok"}}


async def test_readyz_is_503_when_a_check_fails(
    web_pool: asyncpg.Pool, clock: FrozenClock, jwks: StaticJWKS
) -> None:
    async def consumers() -> bool:
        return False

    async def broken() -> bool:
        raise ConnectionError("down")

    ctx = make_context(pool=web_pool, clock=clock, verifier=verifier_for(jwks))
    await ctx.bus.connect()
    checks = {"consumers": consumers, "cache": broken}
    app = create_service_app(ctx, title="test", routers=[], ready_checks=checks)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://testserver"
    ) as http:
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unready",
        "checks": {"database": "ok", "bus": "ok", "consumers": "failed", "cache": "failed"},
    }


async def test_readyz_is_503_when_bus_is_down(
    web_pool: asyncpg.Pool, clock: FrozenClock, jwks: StaticJWKS
) -> None:
    ctx = make_context(pool=web_pool, clock=clock, verifier=verifier_for(jwks))
    app = create_service_app(ctx, title="test", routers=[])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://testserver"
    ) as http:
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["bus"] == "failed"


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/orders/abc")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert (
        'bwai_http_requests_total{method="GET",route="/orders/{order_id}",service="test",'
        'status="404"}' in response.text
    )
