"""Webhook secrets from the environment, rotation order and the service definition."""

from __future__ import annotations

import pytest
from bwai_webhooks_ingest.definition import SERVICE
from bwai_webhooks_ingest.settings import WebhooksSettings
from pydantic import ValidationError


def test_secrets_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BWAI_NOWPAYMENTS_IPN_SECRET", "np-current")
    monkeypatch.setenv("BWAI_NOWPAYMENTS_IPN_SECRET_PREVIOUS", "np-previous")
    monkeypatch.setenv("BWAI_COINBASE_COMMERCE_WEBHOOK_SECRET", "cb-current")

    settings = WebhooksSettings()

    assert settings.configured_secrets() == {
        "nowpayments_ipn_secret": "np-current",
        "nowpayments_ipn_secret_previous": "np-previous",
        "coinbase_commerce_webhook_secret": "cb-current",
    }


def test_blank_secret_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BWAI_NOWPAYMENTS_IPN_SECRET", "  ")

    settings = WebhooksSettings()

    assert settings.nowpayments_ipn_secret is None
    assert "nowpayments_ipn_secret" not in settings.configured_secrets()


def test_secret_hidden_from_repr() -> None:
    settings = WebhooksSettings(nowpayments_ipn_secret="np-current-value")

    assert "np-current-value" not in repr(settings)


def test_placeholder_secret_rejected_in_production() -> None:
    with pytest.raises(ValidationError, match="BWAI_COINBASE_COMMERCE_WEBHOOK_SECRET"):
        WebhooksSettings(environment="production", coinbase_commerce_webhook_secret="changeme")


def test_placeholder_secret_allowed_in_development() -> None:
    settings = WebhooksSettings(environment="development", nowpayments_ipn_secret="dev")

    assert settings.configured_secrets()["nowpayments_ipn_secret"] == "dev"


def test_service_definition_serves_webhook_prefix() -> None:
    assert SERVICE.name == "webhooks-ingest"
    assert tuple(SERVICE.public_prefixes) == ("/v1/webhooks",)
    assert SERVICE.settings_class is WebhooksSettings
