"""Webhooks-ingest as the runtime hosts it: settings, tables and HTTP app."""

from __future__ import annotations

from bwai_core.db import MigrationSource
from bwai_web.service import ServiceDefinition

from bwai_webhooks_ingest.app import create_app
from bwai_webhooks_ingest.deliveries.secrets import close_webhook_secrets
from bwai_webhooks_ingest.settings import WebhooksSettings

WEBHOOKS_MIGRATIONS = MigrationSource("webhooks_ingest", "bwai_webhooks_ingest")

SERVICE = ServiceDefinition(
    name="webhooks-ingest",
    settings_class=WebhooksSettings,
    migrations=[WEBHOOKS_MIGRATIONS],
    create_app=create_app,
    public_prefixes=("/v1/webhooks",),
    on_stop=close_webhook_secrets,
)
