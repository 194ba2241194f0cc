"""Webhooks-ingest settings: the providers' webhook secrets and the rotation grace period.

The secrets are read through the secret store that BWAI_SECRETS_BACKEND selects; the fields
below are the env backend's values. A secret left unset means "accept nothing from that
provider": deliveries are kept as rejected and get a 503 response. A `_PREVIOUS` secret is
accepted until it is removed; a value replaced in the store is accepted for
`webhook_secret_grace_seconds` after the service reads the changed value.
"""

from __future__ import annotations

from typing import Any, Literal

from bwai_core.settings import PLACEHOLDER_SECRETS, ServiceSettings
from bwai_web.service import ServiceContext
from pydantic import Field, SecretStr, field_validator, model_validator

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
    # How long a replaced webhook secret is still accepted, counted from when the change is seen.
    webhook_secret_grace_seconds: float = Field(default=24 * 3600, ge=0)

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

    def configured_secrets(self) -> dict[str, str]:
        """Return the webhook secrets set on this object, keyed by secret name.

        The env secret backend reads these before the process environment, so values handed to
        the settings object by a launcher or a test count as environment secrets.
        """
        found: dict[str, str] = {}
        for name in _SECRET_FIELDS:
            value = getattr(self, name)
            if value is not None:
                found[name] = value.get_secret_value()
        return found


def webhooks_settings(ctx: ServiceContext) -> WebhooksSettings:
    """Return the context's settings, which the runtime builds from SERVICE.settings_class."""
    if not isinstance(ctx.settings, WebhooksSettings):
        raise TypeError("webhooks-ingest needs WebhooksSettings in its ServiceContext")
    return ctx.settings
