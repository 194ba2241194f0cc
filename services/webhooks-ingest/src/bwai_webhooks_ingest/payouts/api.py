"""`POST /v1/webhooks/nowpayments/payouts`: NOWPayments payout IPNs, signed like payment IPNs.

Payments sets this URL as each payout's `ipn_callback_url`. No authentication: the
`x-nowpayments-sig` signature is the proof.
"""

from __future__ import annotations

from bwai_core.ids import new_id
from bwai_web.service import ServiceContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bwai_webhooks_ingest.deliveries.body import read_delivery
from bwai_webhooks_ingest.deliveries.models import NOWPAYMENTS
from bwai_webhooks_ingest.deliveries.secrets import webhook_secrets
from bwai_webhooks_ingest.deliveries.service import IngestDependencies
from bwai_webhooks_ingest.payouts.service import ingest_payout_delivery
from bwai_webhooks_ingest.settings import webhooks_settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("/nowpayments/payouts", response_model=None)
async def receive_nowpayments_payout(request: Request) -> JSONResponse:
    """Receive a NOWPayments payout IPN signed in the `x-nowpayments-sig` header."""
    ctx: ServiceContext = request.app.state.ctx
    settings = webhooks_settings(ctx)
    deps = IngestDependencies(ctx.pool, ctx.clock, ctx.schemas, settings.max_body_bytes)
    # The raw bytes are read before anything parses them, because the signature covers them.
    delivery = await read_delivery(
        request,
        NOWPAYMENTS,
        delivery_id=new_id(),
        received_at=ctx.clock.now(),
        max_body_bytes=settings.max_body_bytes,
    )
    secret = webhook_secrets(ctx).for_provider("nowpayments")
    result = await ingest_payout_delivery(deps, delivery, secret)
    return JSONResponse({"status": result.outcome, "delivery_id": str(result.delivery_id)})
