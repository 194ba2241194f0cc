"""Ingesting one webhook delivery: verify, keep it, and publish each new provider event once.

Every delivery is stored. A rejected one is written in its own transaction before the error is
raised. A verified one is written together with its event identity and, when the identity is
new, the `webhooks.provider_event.received` outbox row, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import structlog
from bwai_core.clock import Clock
from bwai_core.db import transaction
from bwai_core.secrets import RotatingSecret, SecretCandidate, SecretError
from bwai_messaging.envelope import new_event
from bwai_messaging.outbox import enqueue
from bwai_messaging.schemas import SchemaRegistry
from bwai_providers import (
    PayloadInvalid,
    ProviderEventData,
    ProviderWebhookError,
    SignatureMissing,
    VerifiedPayload,
)
from bwai_providers.events import EVENT_TYPE
from bwai_telemetry.metrics import count_webhook_failure

from bwai_webhooks_ingest.deliveries import repository
from bwai_webhooks_ingest.deliveries.models import (
    DeliveryResult,
    IncomingDelivery,
    ProviderWebhooks,
)
from bwai_webhooks_ingest.errors import (
    WebhookError,
    WebhookPayloadInvalid,
    WebhookPayloadTooLarge,
    WebhookSecretUnavailable,
    WebhookSecretUnset,
    WebhookSignatureInvalid,
    WebhookSignatureMissing,
)

log = structlog.get_logger()

EVENT_SOURCE = "/services/webhooks-ingest"
_OUTCOME_EVENTS = {
    "accepted": "webhook.delivery.accepted",
    "duplicate": "webhook.delivery.duplicate",
}


@dataclass(frozen=True, slots=True)
class IngestDependencies:
    pool: asyncpg.Pool
    clock: Clock
    schemas: SchemaRegistry
    max_body_bytes: int


async def ingest_delivery(
    deps: IngestDependencies,
    webhooks: ProviderWebhooks,
    delivery: IncomingDelivery,
    secret: RotatingSecret,
) -> DeliveryResult:
    """Verify and store one delivery; publish its event when this is its first delivery.

    The signature is checked against the current value of `secret` and, during a rotation, the
    previous one. Raises WebhookPayloadTooLarge, WebhookSecretUnset, WebhookSecretUnavailable,
    WebhookSignatureMissing, WebhookSignatureInvalid or WebhookPayloadInvalid after storing the
    delivery as rejected. A duplicate of an event already received returns normally with outcome
    'duplicate'.
    """
    if delivery.body is None:
        detail = (
            f"body of at least {delivery.body_size} bytes is over the limit of "
            f"{deps.max_body_bytes} bytes for webhooks"
        )
        raise await _reject(deps, delivery, WebhookPayloadTooLarge(detail))
    candidates = await _secret_candidates(deps, delivery, secret)
    try:
        verified = webhooks.verify(delivery.body, delivery.signature, [c.value for c in candidates])
        event_data = webhooks.normalise(verified.payload)
    except ProviderWebhookError as exc:
        raise await _reject(deps, delivery, _as_service_error(exc)) from exc

    return await _store_verified(
        deps, delivery, verified, candidates[verified.secret_index], event_data
    )


async def _secret_candidates(
    deps: IngestDependencies, delivery: IncomingDelivery, secret: RotatingSecret
) -> tuple[SecretCandidate, ...]:
    try:
        candidates = await secret.candidates()
    except SecretError as exc:
        log.error(
            "webhook.secret.unavailable",
            provider=delivery.provider,
            delivery_id=str(delivery.id),
            secret_name=secret.name,
            error=str(exc),
        )
        detail = f"the webhook secret of {delivery.provider} could not be read; retry later"
        raise await _reject(deps, delivery, WebhookSecretUnavailable(detail)) from exc
    if not candidates:
        log.error("webhook.secret.unset", provider=delivery.provider, delivery_id=str(delivery.id))
        detail = f"no webhook secret is configured for {delivery.provider}"
        raise await _reject(deps, delivery, WebhookSecretUnset(detail))
    return candidates


async def _store_verified(
    deps: IngestDependencies,
    delivery: IncomingDelivery,
    verified: VerifiedPayload,
    matched: SecretCandidate,
    event_data: ProviderEventData,
) -> DeliveryResult:
    secret_slot = matched.slot
    event = new_event(
        EVENT_TYPE,
        event_data.to_event_data(delivery_id=delivery.id, received_at=delivery.received_at),
        source=EVENT_SOURCE,
        clock=deps.clock,
        subject=event_data.provider_payment_id,
    )

    async with transaction(deps.pool) as conn:
        outcome = await repository.insert_verified(
            conn,
            delivery,
            provider_event_id=event_data.provider_event_id,
            secret_slot=secret_slot,
            event_id=event.id,
        )
        if outcome == "accepted":
            await enqueue(conn, event, schemas=deps.schemas)

    log.info(
        _OUTCOME_EVENTS[outcome],
        provider=delivery.provider,
        delivery_id=str(delivery.id),
        provider_event_id=event_data.provider_event_id,
        provider_payment_id=event_data.provider_payment_id,
        provider_status=event_data.provider_status,
        event_id=event.id if outcome == "accepted" else None,
        secret=secret_slot,
        # For a previous secret: remembered from a rotation, or the explicit _PREVIOUS one.
        secret_source=matched.source,
        signed_form=verified.signed_form,
    )
    return DeliveryResult(delivery.id, outcome, event_data.provider_event_id)


async def _reject(
    deps: IngestDependencies, delivery: IncomingDelivery, error: WebhookError
) -> WebhookError:
    """Store the delivery as rejected in its own transaction; return the error to raise."""
    await repository.insert_rejected(deps.pool, delivery, reason=error.code, detail=error.detail)
    count_webhook_failure(delivery.provider, error.code)
    log.warning(
        "webhook.delivery.rejected",
        provider=delivery.provider,
        delivery_id=str(delivery.id),
        reason=error.code,
        detail=error.detail,
        remote_addr=delivery.remote_addr,
    )
    return error


def _as_service_error(exc: ProviderWebhookError) -> WebhookError:
    if isinstance(exc, PayloadInvalid):
        return WebhookPayloadInvalid(exc.detail, field=exc.field)
    if isinstance(exc, SignatureMissing):
        return WebhookSignatureMissing(exc.detail)
    return WebhookSignatureInvalid(exc.detail)
