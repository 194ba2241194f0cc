"""docs/events.md stays generated from the schemas, and its producer and consumer tables hold."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from bwai_cli import registry
from bwai_cli.events import (
    PRODUCERS,
    REGENERATE_COMMAND,
    event_schemas,
    producer_of,
    render_catalogue,
)
from bwai_contracts.topology import CONSUMERS
from bwai_core.clock import FrozenClock
from bwai_identity.events import SOURCE as IDENTITY_SOURCE
from bwai_messaging.envelope import dataschema_for
from bwai_messaging.schemas import SchemaRegistry
from bwai_payments.events import SOURCE as PAYMENTS_SOURCE
from bwai_web.service import ServiceContext
from bwai_webhooks_ingest.deliveries.service import EVENT_SOURCE as WEBHOOKS_SOURCE

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_catalogue_is_up_to_date() -> None:
    current = CATALOGUE.read_text(encoding="utf-8") if CATALOGUE.exists() else ""

    assert current == render_catalogue(), (
        f"{CATALOGUE} is out of date with the schemas in contracts/: run "
        f"`.venv/bin/{REGENERATE_COMMAND}` from the repository root and commit the result"
    )


def test_catalogue_has_section_per_schema() -> None:
    rendered = render_catalogue()

    for event in event_schemas():
        assert f"### `{event.type}` v{event.version}" in rendered
        assert f"`{event.dataschema}`" in rendered


def test_catalogue_dataschema_matches_envelope() -> None:
    for event in event_schemas():
        assert event.dataschema == dataschema_for(event.type, event.version)
        assert event.schema["$id"] == event.dataschema


def test_every_event_type_has_producer() -> None:
    for event in event_schemas():
        assert producer_of(event.type) in PRODUCERS.values()


def test_unknown_prefix_names_the_fix() -> None:
    with pytest.raises(ValueError, match="add it to PRODUCERS"):
        producer_of("billing.invoice.created")


def test_event_sources_match_producers() -> None:
    sources = {
        "identity": IDENTITY_SOURCE,
        "payments": PAYMENTS_SOURCE,
        "webhooks-ingest": WEBHOOKS_SOURCE,
    }

    for service, source in sources.items():
        assert source == f"/services/{service}"


def test_consumer_table_matches_service_definitions() -> None:
    declared: dict[str, set[str]] = {}
    queues: dict[str, str] = {}
    for name, definition in registry.SERVICES.items():
        for spec in definition.consumers(_context(name, definition.settings_class())):
            queues[name] = spec.queue
            for event_type in spec.handlers:
                declared.setdefault(event_type, set()).add(name)

    assert declared == {event_type: set(names) for event_type, names in CONSUMERS.items()}
    # The catalogue names each consumer's queue after its service.
    for service, queue in queues.items():
        assert queue == service


def test_consumed_types_have_schemas() -> None:
    known = {event.type for event in event_schemas()}

    for event_type in CONSUMERS:
        assert event_type in known


def _context(name: str, settings: object) -> ServiceContext:
    # Building a service's consumers reads only these attributes, so nothing needs connecting.
    context = SimpleNamespace(
        name=name,
        settings=settings,
        pool=None,
        bus=None,
        clock=FrozenClock(datetime(2026, 1, 15, 12, tzinfo=UTC)),
        schemas=SchemaRegistry.default(),
        token_verifier=None,
        http=None,
        extras={},
    )
    return cast(ServiceContext, context)
