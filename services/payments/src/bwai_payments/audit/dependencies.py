"""FastAPI dependencies of the operator audit."""

from __future__ import annotations

from typing import Annotated

import structlog
from bwai_web.service import ServiceContext
from fastapi import Depends, Request

from bwai_payments.audit.models import RequestMeta


async def request_meta(request: Request) -> RequestMeta:
    """Read the request details an audit row keeps.

    The correlation and request ids are the ones the web middleware bound for this request,
    so they match the service's log lines even when the client sent none.
    """
    ctx: ServiceContext = request.app.state.ctx
    bound = structlog.contextvars.get_contextvars()
    headers = request.headers
    return RequestMeta(
        at=ctx.clock.now(),
        client_address=request.client.host if request.client else None,
        user_agent=headers.get("user-agent"),
        correlation_id=bound.get("correlation_id") or headers.get("x-correlation-id"),
        request_id=bound.get("request_id") or headers.get("x-request-id"),
        idempotency_key=headers.get("idempotency-key"),
    )


RequestMetaDep = Annotated[RequestMeta, Depends(request_meta)]
