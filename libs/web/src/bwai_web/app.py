"""The FastAPI app factory every service uses: errors, request context, limits, health checks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from bwai_core.errors import ServiceError, ValidationFailed
from bwai_telemetry.metrics import register_service
from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bwai_web.body_limit import BodyLimitMiddleware
from bwai_web.metrics import metrics_endpoint
from bwai_web.middleware import RequestContextMiddleware
from bwai_web.problems import http_problem_response, problem_response
from bwai_web.service import ServiceContext

log = structlog.get_logger()

ReadyCheck = Callable[[], Awaitable[bool]]

# A readiness probe must return quickly even when a dependency hangs.
READY_CHECK_TIMEOUT_S = 2.0
# Request fields are reported without the part of the request they came from.
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def create_service_app(
    ctx: ServiceContext,
    *,
    title: str,
    routers: Sequence[APIRouter],
    ready_checks: Mapping[str, ReadyCheck] | None = None,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """Build a service's FastAPI app with the platform's error, logging and health behaviour.

    Request bodies are limited to `settings.max_body_bytes`, checked against Content-Length and
    while the body streams, with a 413 problem past it. `body_limits` maps a route template such
    as `/v1/webhooks/nowpayments` to its own limit in bytes. `/readyz` runs the database and bus
    checks plus `ready_checks`, where a check of the same name replaces the built-in one.
    """
    # FastAPI's own OpenTelemetry spans would duplicate the server span that
    # RequestContextMiddleware opens, and metrics go to Prometheus instead.
    app = FastAPI(title=title, telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.ctx = ctx
    register_service(ctx.name)

    app.add_exception_handler(ServiceError, _service_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(HTTPException, _http_error_handler)
    # Added last, so it runs first: the request context also covers a rejected body.
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=ctx.settings.max_body_bytes, route_limits=body_limits
    )
    app.add_middleware(RequestContextMiddleware, service=ctx.name)

    checks = {**_default_checks(ctx), **(ready_checks or {})}
    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/readyz", _readyz_endpoint(checks), methods=["GET"], include_in_schema=False)
    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    for router in routers:
        app.include_router(router)
    return app


async def _service_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return problem_response(exc, request.url.path)


async def _validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(error.get("loc", ())), "message": str(error.get("msg", "invalid"))}
        for error in exc.errors()
    ]
    return problem_response(ValidationFailed(errors), request.url.path)


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return http_problem_response(exc.status_code, detail, request.url.path, headers=exc.headers)


def _field_name(location: Sequence[Any]) -> str:
    """Return the dotted field path of a pydantic error location, e.g. `metadata.items.0`."""
    parts = [str(part) for part in location]
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _healthz() -> dict[str, str]:
    return {"status": "ok"}


def _readyz_endpoint(checks: Mapping[str, ReadyCheck]) -> Callable[[], Awaitable[Response]]:
    async def readyz() -> Response:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(name, checks[name]) for name in names))
        ready = all(results)
        body = {
            "status": "ready" if ready else "unready",
            "checks": {
                name: "ok" if ok else "failed" for name, ok in zip(names, results, strict=True)
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return readyz


async def _run_check(name: str, check: ReadyCheck) -> bool:
    try:
        return await asyncio.wait_for(check(), READY_CHECK_TIMEOUT_S)
    except TimeoutError:
        log.warning("http.ready_check.timed_out", check=name, timeout_s=READY_CHECK_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - any failure of a probe means "not ready"
        log.warning("http.ready_check.failed", check=name, error=repr(exc))
    return False


def _default_checks(ctx: ServiceContext) -> dict[str, ReadyCheck]:
    async def database() -> bool:
        return bool(await ctx.pool.fetchval("SELECT 1"))

    async def bus() -> bool:
        return ctx.bus.is_ready()

    return {"database": database, "bus": bus}
