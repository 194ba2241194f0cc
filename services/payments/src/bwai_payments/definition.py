"""The payments service as the runtime hosts it."""

from __future__ import annotations

from collections.abc import Sequence

from bwai_core.db import MigrationSource
from bwai_core.secrets import SecretValues, SecretWatcher, secret_store_from_settings
from bwai_web.idempotency import IDEMPOTENCY_MIGRATIONS
from bwai_web.service import ConsumerSpec, ServiceContext, ServiceDefinition
from bwai_web.stepup import STEP_UP_MIGRATIONS

from bwai_payments.app import create_app
from bwai_payments.payments.service import ADAPTERS_KEY
from bwai_payments.provider_events.consumers import (
    PROVIDER_EVENT_RECEIVED,
    provider_event_handler,
)
from bwai_payments.providers import build_adapters
from bwai_payments.reconciliation.consumers import with_provider_state
from bwai_payments.reconciliation.scheduler import start_scheduler, stop_scheduler
from bwai_payments.refunds.consumers import PAYOUT_EVENT_RECEIVED, payout_event_handler
from bwai_payments.settings import PaymentsSettings

PAYMENTS_MIGRATIONS = MigrationSource("payments", "bwai_payments")
# Provider API keys in the secret store (BWAI_NOWPAYMENTS_API_KEY ... with the env backend).
API_KEY_NAMES = ("nowpayments_api_key", "coinbase_commerce_api_key")
KEY_WATCHER_KEY = "payments.key_watcher"


def consumers(ctx: ServiceContext) -> Sequence[ConsumerSpec]:
    return [
        ConsumerSpec(
            queue="payments",
            handlers={
                PROVIDER_EVENT_RECEIVED: with_provider_state(
                    provider_event_handler(ctx), ctx.clock
                ),
                PAYOUT_EVENT_RECEIVED: payout_event_handler(ctx),
            },
        )
    ]


async def on_start(ctx: ServiceContext) -> None:
    """Build the provider adapters, and rebuild them whenever a provider API key changes."""
    settings = ctx.settings
    assert isinstance(settings, PaymentsSettings)
    configured = {name: getattr(settings, name) for name in API_KEY_NAMES}
    store = secret_store_from_settings(
        settings, configured={name: key for name, key in configured.items() if key}, client=ctx.http
    )

    def install_adapters(keys: SecretValues) -> None:
        # Requests in flight keep the adapters they already hold.
        ctx.extras[ADAPTERS_KEY] = build_adapters(settings.model_copy(update=keys), ctx.http)

    watcher = SecretWatcher(
        store,
        API_KEY_NAMES,
        on_change=install_adapters,
        interval_s=settings.secrets_cache_ttl_seconds,
    )
    await watcher.start()
    ctx.extras[KEY_WATCHER_KEY] = watcher
    await start_scheduler(ctx)


async def on_stop(ctx: ServiceContext) -> None:
    await stop_scheduler(ctx)
    watcher = ctx.extras.pop(KEY_WATCHER_KEY, None)
    if isinstance(watcher, SecretWatcher):
        await watcher.stop()


SERVICE = ServiceDefinition(
    name="payments",
    settings_class=PaymentsSettings,
    migrations=[IDEMPOTENCY_MIGRATIONS, STEP_UP_MIGRATIONS, PAYMENTS_MIGRATIONS],
    create_app=create_app,
    consumers=consumers,
    public_prefixes=(
        "/v1/orders",
        "/v1/payments",
        "/v1/reconciliation",
        "/v1/refunds",
        "/v1/disputes",
        "/v1/audit",
    ),
    on_start=on_start,
    on_stop=on_stop,
)
