"""The provider-facing webhook endpoints; no authentication, the signature is the proof."""

from __future__ import annotations

from bwai_core.ids import new_id
from bwai_web.service import ServiceContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bwai_webhooks_ingest.deliveries.body import read_delivery
from bwai_webhooks_ingest.deliveries.models import (
    COINBASE_COMMERCE,
    NOWPAYMENTS,
    ProviderWebhooks,
)
from bwai_webhooks_ingest.deliveries.secrets import webhook_secrets
from bwai_webhooks_ingest.deliveries.service import IngestDependencies, ingest_delivery
from bwai_webhooks_ingest.settings import webhooks_settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("/nowpayments", response_model=None)
async def receive_nowpayments(request: Request) -> JSONResponse:
    """Receive a NOWPayments IPN signed in the `x-nowpayments-sig` header."""
    return await _receive(request, NOWPAYMENTS)


@router.post("/coinbase-commerce", response_model=None)
async def receive_coinbase_commerce(request: Request) -> JSONResponse:
    """Receive a Coinbase Commerce webhook signed in the `X-CC-Webhook-Signature` header."""
    return await _receive(request, COINBASE_COMMERCE)


async def _receive(request: Request, webhooks: ProviderWebhooks) -> JSONResponse:
    # The body is read as raw bytes here, before anything parses it, because the signature
    # covers those bytes.
    ctx: ServiceContext = request.app.state.ctx
    settings = webhooks_settings(ctx)
    deps = IngestDependencies(ctx.pool, ctx.clock, ctx.schemas, settings.max_body_bytes)

    delivery = await read_delivery(
        request,
        webhooks,
        delivery_id=new_id(),
        received_at=ctx.clock.now(),
        max_body_bytes=settings.max_body_bytes,
    )
    secret = webhook_secrets(ctx).for_provider(webhooks.provider)
    result = await ingest_delivery(deps, webhooks, delivery, secret)

    # Providers only need a 2xx; a duplicate is acknowledged like the first delivery.
    return JSONResponse({"status": result.outcome, "delivery_id": str(result.delivery_id)})
