"""Webhooks-ingest settings: the providers' webhook secrets, current and previous.

A secret left unset means "accept nothing from that provider": deliveries are kept as rejected
and get a 503 response. A `_PREVIOUS` secret keeps a rotation's grace period, because deliveries
signed with it are still accepted until it is removed.
"""

from __future__ import annotations

from typing import Any, Literal

from bwai_core.settings import PLACEHOLDER_SECRETS, ServiceSettings
from bwai_web.service import ServiceContext
from pydantic import SecretStr, field_validator, model_validator

Provider = Literal["nowpayments", "coinbase_commerce"]

_SECRET_FIELDS = (
    "nowpayments_ipn_secret",
    "nowpayments_ipn_secret_previous",
    "coinbase_commerce_webhook_secret",
    "coinbase_commerce_webhook_secret_previous",
)


class WebhooksSettings(ServiceSettings):
    # BWAI_NOWPAYMENTS_IPN_SECRET and BWAI_NOWPAYMENTS_IPN_SECRET_PREVIOUS.
    nowpayments_ipn_secret: SecretStr | None = None
    nowpayments_ipn_secret_previous: SecretStr | None = None
    # BWAI_COINBASE_COMMERCE_WEBHOOK_SECRET and BWAI_COINBASE_COMMERCE_WEBHOOK_SECRET_PREVIOUS.
    coinbase_commerce_webhook_secret: SecretStr | None = None
    coinbase_commerce_webhook_secret_previous: SecretStr | None = None

    @field_validator(*_SECRET_FIELDS, mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # An empty environment variable must not become an empty HMAC key.
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _no_placeholder_in_production(self) -> WebhooksSettings:
        if self.environment != "production":
            return self
        for name in _SECRET_FIELDS:
            value = getattr(self, name)
            if value is not None and value.get_secret_value() in PLACEHOLDER_SECRETS:
                raise ValueError(f"BWAI_{name.upper()} is a placeholder, not a real secret")
        return self

    def webhook_secrets(self, provider: Provider) -> tuple[str, ...]:
        """Return the secrets to try for `provider`: current first, then previous.

        Empty when the current secret is unset, whatever the previous one holds.
        """
        if provider == "nowpayments":
            current, previous = self.nowpayments_ipn_secret, self.nowpayments_ipn_secret_previous
        else:
            current = self.coinbase_commerce_webhook_secret
            previous = self.coinbase_commerce_webhook_secret_previous
        if current is None:
            return ()
        if previous is None:
            return (current.get_secret_value(),)
        return (current.get_secret_value(), previous.get_secret_value())


def webhooks_settings(ctx: ServiceContext) -> WebhooksSettings:
    """Return the context's settings, which the runtime builds from SERVICE.settings_class."""
    if not isinstance(ctx.settings, WebhooksSettings):
        raise TypeError("webhooks-ingest needs WebhooksSettings in its ServiceContext")
    return ctx.settings
