"""The webhook secrets of each provider, read through the service's secret store.

Each provider's secret is a RotatingSecret kept for the life of the service, so a value changed
in the store is used within the cache TTL and the value it replaced is still accepted for the
grace period.
"""

from __future__ import annotations

from datetime import timedelta

from bwai_core.secrets import RotatingSecret, SecretStore, secret_store_from_settings
from bwai_web.service import ServiceContext

from bwai_webhooks_ingest.settings import Provider, WebhooksSettings, webhooks_settings

# Secret names in the store: BWAI_<NAME> for the env backend, the file name for the file
# backend, the path under BWAI_VAULT_PATH_PREFIX for Vault. `<name>_previous` is the explicit
# previous value.
SECRET_NAMES: dict[Provider, str] = {
    "nowpayments": "nowpayments_ipn_secret",
    "coinbase_commerce": "coinbase_commerce_webhook_secret",
}
EXTRAS_KEY = "webhooks.secrets"


class WebhookSecrets:
    """One RotatingSecret per provider on one store, which this object closes."""

    def __init__(self, store: SecretStore, settings: WebhooksSettings, ctx: ServiceContext) -> None:
        self._store = store
        grace = timedelta(seconds=settings.webhook_secret_grace_seconds)
        self._secrets = {
            provider: RotatingSecret(
                store,
                name,
                clock=ctx.clock,
                grace=grace,
                ttl_s=settings.secrets_cache_ttl_seconds,
            )
            for provider, name in SECRET_NAMES.items()
        }

    def for_provider(self, provider: Provider) -> RotatingSecret:
        return self._secrets[provider]

    async def aclose(self) -> None:
        await self._store.aclose()


def webhook_secrets(ctx: ServiceContext) -> WebhookSecrets:
    """Return the service's WebhookSecrets, building them on first use.

    Built lazily rather than in `on_start` so that an app made straight from a ServiceContext
    (as tests do) has them too. There is no await here, so concurrent first requests build one.
    """
    found = ctx.extras.get(EXTRAS_KEY)
    if isinstance(found, WebhookSecrets):
        return found
    settings = webhooks_settings(ctx)
    store = secret_store_from_settings(settings, configured=settings.configured_secrets())
    secrets = WebhookSecrets(store, settings, ctx)
    ctx.extras[EXTRAS_KEY] = secrets
    return secrets


async def close_webhook_secrets(ctx: ServiceContext) -> None:
    found = ctx.extras.pop(EXTRAS_KEY, None)
    if isinstance(found, WebhookSecrets):
        await found.aclose()
