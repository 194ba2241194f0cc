"""Ingesting one payout webhook: verify, keep the delivery, publish each payout status once.

The same steps as payment webhooks (deliveries.service), with the payout event type: the
delivery and, for a new payout status, its outbox row are written in one transaction.
"""

from __future__ import annotations

import structlog
from bwai_core.db import transaction
from bwai_core.secrets import RotatingSecret
from bwai_messaging.envelope import new_event
from bwai_messaging.outbox import enqueue
from bwai_providers import ProviderWebhookError

from bwai_webhooks_ingest.deliveries import repository
from bwai_webhooks_ingest.deliveries.models import NOWPAYMENTS as NOWPAYMENTS_WEBHOOKS
from bwai_webhooks_ingest.deliveries.models import DeliveryResult, IncomingDelivery
from bwai_webhooks_ingest.deliveries.service import (
    EVENT_SOURCE,
    IngestDependencies,
    _as_service_error,
    _reject,
    _secret_candidates,
)
from bwai_webhooks_ingest.errors import WebhookPayloadTooLarge
from bwai_webhooks_ingest.payouts.normalise import EVENT_TYPE, normalise_payout_ipn

log = structlog.get_logger()

_OUTCOME_EVENTS = {
    "accepted": "webhook.payout_delivery.accepted",
    "duplicate": "webhook.payout_delivery.duplicate",
}


async def ingest_payout_delivery(
    deps: IngestDependencies, delivery: IncomingDelivery, secret: RotatingSecret
) -> DeliveryResult:
    """Verify and store a NOWPayments payout IPN; publish its event on first delivery.

    Raises the errors of `deliveries.service.ingest_delivery` after storing a rejected delivery.
    """
    if delivery.body is None:
        detail = f"body of at least {delivery.body_size} bytes is over the limit for webhooks"
        raise await _reject(deps, delivery, WebhookPayloadTooLarge(detail))
    candidates = await _secret_candidates(deps, delivery, secret)
    try:
        verified = NOWPAYMENTS_WEBHOOKS.verify(
            delivery.body, delivery.signature, [c.value for c in candidates]
        )
        data = normalise_payout_ipn(
            verified.payload, delivery_id=delivery.id, received_at=delivery.received_at
        )
    except ProviderWebhookError as exc:
        raise await _reject(deps, delivery, _as_service_error(exc)) from exc

    event = new_event(
        EVENT_TYPE, data, source=EVENT_SOURCE, clock=deps.clock, subject=data["payout_id"]
    )
    async with transaction(deps.pool) as conn:
        outcome = await repository.insert_verified(
            conn,
            delivery,
            provider_event_id=data["provider_event_id"],
            secret_slot=candidates[verified.secret_index].slot,
            event_id=event.id,
        )
        if outcome == "accepted":
            await enqueue(conn, event, schemas=deps.schemas)
    log.info(
        _OUTCOME_EVENTS[outcome],
        provider=delivery.provider,
        delivery_id=str(delivery.id),
        provider_event_id=data["provider_event_id"],
        payout_id=data["payout_id"],
        payout_status=data["status"],
    )
    return DeliveryResult(delivery.id, outcome, data["provider_event_id"])
