"""The services this build hosts; the launcher is the only code that imports all of them."""

from __future__ import annotations

from bwai_identity.definition import SERVICE as IDENTITY
from bwai_payments.definition import SERVICE as PAYMENTS
from bwai_web.service import ServiceDefinition
from bwai_webhooks_ingest.definition import SERVICE as WEBHOOKS_INGEST

# Start order: identity first (it signs tokens), then the services that verify them.
SERVICES: dict[str, ServiceDefinition] = {
    service.name: service for service in (IDENTITY, WEBHOOKS_INGEST, PAYMENTS)
}


def get(name: str) -> ServiceDefinition:
    try:
        return SERVICES[name]
    except KeyError:
        known = ", ".join(SERVICES)
        raise SystemExit(f"unknown service {name!r}; known services: {known}") from None
