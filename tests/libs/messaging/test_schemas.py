"""Schema validation of events: envelope and data, compiled from draft-07 schemas."""

from __future__ import annotations

import dataclasses

import bwai_contracts
import pytest
from bwai_core.clock import FrozenClock
from bwai_messaging.envelope import new_event
from bwai_messaging.errors import InvalidEvent
from bwai_messaging.schemas import SchemaRegistry
from messaging_helpers import WIDGET_CREATED, widget_event


def test_valid_event_passes(schemas: SchemaRegistry, clock: FrozenClock) -> None:
    schemas.validate(widget_event(clock))


def test_data_breaking_schema_is_invalid(schemas: SchemaRegistry, clock: FrozenClock) -> None:
    event = new_event(WIDGET_CREATED, {"name": 7}, source="/tests", clock=clock)

    with pytest.raises(InvalidEvent, match=r"data\.name must be string"):
        schemas.validate(event)


def test_unknown_type_is_invalid(schemas: SchemaRegistry, clock: FrozenClock) -> None:
    event = new_event("test.unknown.happened", {}, source="/tests", clock=clock)

    with pytest.raises(InvalidEvent, match=r"no schema for event type 'test\.unknown\.happened'"):
        schemas.validate(event)


def test_unknown_version_is_invalid(schemas: SchemaRegistry, clock: FrozenClock) -> None:
    event = new_event(WIDGET_CREATED, {"name": "a"}, source="/tests", clock=clock, version=9)

    with pytest.raises(InvalidEvent, match="version 9"):
        schemas.validate(event)


def test_dataschema_naming_another_type_is_invalid(
    schemas: SchemaRegistry, clock: FrozenClock
) -> None:
    event = dataclasses.replace(
        widget_event(clock), dataschema="urn:bwai:schema:test.gadget.created:v1"
    )

    with pytest.raises(InvalidEvent, match="does not name event type"):
        schemas.validate(event)


def test_envelope_breaking_schema_is_invalid(schemas: SchemaRegistry, clock: FrozenClock) -> None:
    event = dataclasses.replace(widget_event(clock), traceparent="not-a-traceparent")

    with pytest.raises(InvalidEvent, match=r"envelope\.traceparent must match pattern"):
        schemas.validate(event)


def test_validation_leaves_data_unchanged(clock: FrozenClock) -> None:
    schema_with_default = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "colour": {"type": "string", "default": "red"}},
    }
    registry = SchemaRegistry.from_contracts({(WIDGET_CREATED, 1): schema_with_default})
    event = widget_event(clock)

    registry.validate(event)

    assert event.data == {"name": "sprocket"}


def test_default_registry_loads_every_contract() -> None:
    registry = SchemaRegistry.default()

    event_files = [name for name in bwai_contracts.schema_files() if name != "cloudevent.json"]
    assert len(registry.known_types()) == len(event_files)
    assert SchemaRegistry.default() is registry


def test_every_contract_is_a_draft07_object_schema() -> None:
    for name in bwai_contracts.schema_files():
        schema = bwai_contracts.load_schema(name)

        assert schema.get("$schema", "http://json-schema.org/draft-07/schema#").startswith(
            "http://json-schema.org/draft-07/schema"
        ), name
        assert schema.get("type") == "object", name
