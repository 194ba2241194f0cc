"""The payments service as the runtime hosts it."""

from __future__ import annotations

from collections.abc import Sequence

from bwai_core.db import MigrationSource
from bwai_web.idempotency import IDEMPOTENCY_MIGRATIONS
from bwai_web.service import ConsumerSpec, ServiceContext, ServiceDefinition

from bwai_payments.app import create_app
from bwai_payments.payments.service import ADAPTERS_KEY
from bwai_payments.provider_events.consumers import (
    PROVIDER_EVENT_RECEIVED,
    provider_event_handler,
)
from bwai_payments.providers import build_adapters
from bwai_payments.settings import PaymentsSettings

PAYMENTS_MIGRATIONS = MigrationSource("payments", "bwai_payments")


def consumers(ctx: ServiceContext) -> Sequence[ConsumerSpec]:
    return [
        ConsumerSpec(
            queue="payments", handlers={PROVIDER_EVENT_RECEIVED: provider_event_handler(ctx)}
        )
    ]


async def on_start(ctx: ServiceContext) -> None:
    """Build the provider adapters on the service's shared HTTP client."""
    settings = ctx.settings
    assert isinstance(settings, PaymentsSettings)
    ctx.extras[ADAPTERS_KEY] = build_adapters(settings, ctx.http)


SERVICE = ServiceDefinition(
    name="payments",
    settings_class=PaymentsSettings,
    migrations=[IDEMPOTENCY_MIGRATIONS, PAYMENTS_MIGRATIONS],
    create_app=create_app,
    consumers=consumers,
    public_prefixes=("/v1/orders", "/v1/payments"),
    on_start=on_start,
)
