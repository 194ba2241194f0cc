"""The sandbox app: both providers' APIs, the checkout page and the control API on one port.

Production code never imports this package; it only talks to the sandbox over HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
import uvicorn
from bwai_core.clock import Clock, SystemClock
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bwai_sandbox.checkout.api import router as checkout_router
from bwai_sandbox.coinbase.api import router as coinbase_router
from bwai_sandbox.coinbase.errors import CoinbaseError
from bwai_sandbox.control.api import router as control_router
from bwai_sandbox.errors import SandboxError
from bwai_sandbox.faults import InjectedFailure
from bwai_sandbox.models import Provider
from bwai_sandbox.nowpayments.api import router as nowpayments_router
from bwai_sandbox.nowpayments.errors import NowPaymentsError
from bwai_sandbox.payouts.api import control_router as payouts_control_router
from bwai_sandbox.payouts.api import router as payouts_router
from bwai_sandbox.request_log import RequestLogMiddleware
from bwai_sandbox.sandbox import Sandbox
from bwai_sandbox.settings import SandboxSettings

log = structlog.get_logger()


def create_app(settings: SandboxSettings, *, clock: Clock | None = None) -> FastAPI:
    """Build the sandbox app. `app.state.sandbox` is its Sandbox, for in-process tests."""
    sandbox = Sandbox(settings, clock or SystemClock())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("sandbox.started", public_url=settings.base_url)
        yield
        await sandbox.sender.aclose()
        log.info("sandbox.stopped")

    app = FastAPI(title="Provider sandbox", lifespan=lifespan)
    app.state.sandbox = sandbox
    app.add_middleware(RequestLogMiddleware, state=sandbox.state, clock=sandbox.clock)
    routers = (
        nowpayments_router,
        payouts_router,
        coinbase_router,
        checkout_router,
        control_router,
        payouts_control_router,
    )
    for router in routers:
        app.include_router(router)
    _install_error_handlers(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def run(settings: SandboxSettings | None = None) -> None:
    """Serve the sandbox with uvicorn until interrupted."""
    settings = settings or SandboxSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NowPaymentsError)
    async def nowpayments_error(request: Request, exc: NowPaymentsError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code)

    @app.exception_handler(CoinbaseError)
    async def coinbase_error(request: Request, exc: CoinbaseError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code)

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(InjectedFailure)
    async def injected_failure(request: Request, exc: InjectedFailure) -> JSONResponse:
        return _provider_error(exc.provider, exc.status_code, "injected failure")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Provider routes return errors in the provider's shape, the rest in FastAPI's.
        message = "; ".join(_describe(error) for error in exc.errors())
        provider = _provider_of(request.url.path)
        if provider is None:
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        return _provider_error(provider, 400, message)


def _provider_error(provider: Provider, status_code: int, message: str) -> JSONResponse:
    if provider is Provider.NOWPAYMENTS:
        code = {400: "INVALID_REQUEST_PARAMS", 500: "INTERNAL_ERROR"}.get(
            status_code, "SERVICE_UNAVAILABLE"
        )
        body = NowPaymentsError(status_code, code, message).body()
    else:
        error_type = {400: "validation_error", 500: "internal_server_error"}.get(
            status_code, "service_unavailable"
        )
        body = CoinbaseError(status_code, error_type, message).body()
    return JSONResponse(body, status_code=status_code)


def _provider_of(path: str) -> Provider | None:
    if path.startswith("/nowpayments/"):
        return Provider.NOWPAYMENTS
    if path.startswith("/coinbase/"):
        return Provider.COINBASE
    return None


def _describe(error: dict[str, Any]) -> str:
    parts = error.get("loc", ())
    location = ".".join(str(part) for part in parts if part not in ("query", "body", "header"))
    return f"{location}: {error.get('msg')}"
