"""CloudEvents envelope: serialisation, parsing and the ids and trace context it carries."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from bwai_core.clock import FrozenClock
from bwai_messaging.envelope import (
    TRACEPARENT_PATTERN,
    Event,
    new_event,
    new_traceparent,
    traceparent_bound,
)
from bwai_messaging.errors import InvalidEvent
from messaging_helpers import WIDGET_CREATED, widget_event


def test_event_round_trips_through_bytes(clock: FrozenClock) -> None:
    event = widget_event(clock, subject="pay_1", tenant_id="tenant-a")

    parsed = Event.from_bytes(event.to_bytes())

    assert parsed == event


def test_structured_json_attributes(clock: FrozenClock) -> None:
    event = widget_event(clock, subject="pay_1", tenant_id="tenant-a")

    document = orjson.loads(event.to_bytes())

    assert document["specversion"] == "1.0"
    assert document["type"] == WIDGET_CREATED
    assert document["time"] == "2026-01-15T12:00:00Z"
    assert document["datacontenttype"] == "application/json"
    assert document["dataschema"] == "urn:bwai:schema:test.widget.created:v1"
    assert document["subject"] == "pay_1"
    assert document["tenantid"] == "tenant-a"
    assert document["data"] == {"name": "sprocket"}


def test_unset_optional_attributes_are_left_out(clock: FrozenClock) -> None:
    event = widget_event(clock)

    document = orjson.loads(event.to_bytes())

    assert "subject" not in document
    assert "tenantid" not in document
    assert "causationid" not in document


def test_new_event_defaults_correlation_to_own_id(clock: FrozenClock) -> None:
    event = widget_event(clock)

    assert event.correlationid == event.id
    assert event.causationid is None
    assert event.time == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert event.version == 1


def test_new_event_without_bound_trace(clock: FrozenClock) -> None:
    first, second = widget_event(clock), widget_event(clock)

    assert first.traceparent is not None
    assert TRACEPARENT_PATTERN.match(first.traceparent)
    assert first.traceparent != second.traceparent


def test_new_event_uses_bound_traceparent(clock: FrozenClock) -> None:
    bound = new_traceparent()

    with traceparent_bound(bound):
        event = widget_event(clock)
    after = widget_event(clock)

    assert event.traceparent == bound
    assert after.traceparent != bound


def test_caused_event_inherits_correlation_and_trace(clock: FrozenClock) -> None:
    cause = widget_event(clock, correlation_id="corr-1")

    effect = new_event("test.gadget.created", {}, source="/tests", clock=clock, causation=cause)

    assert effect.correlationid == "corr-1"
    assert effect.causationid == cause.id
    assert effect.traceparent == cause.traceparent


def test_explicit_values_win_over_causation(clock: FrozenClock) -> None:
    cause = widget_event(clock)
    traceparent = new_traceparent()

    effect = new_event(
        "test.gadget.created",
        {},
        source="/tests",
        clock=clock,
        causation=cause,
        correlation_id="corr-2",
        traceparent=traceparent,
        version=2,
    )

    assert effect.correlationid == "corr-2"
    assert effect.traceparent == traceparent
    assert effect.dataschema == "urn:bwai:schema:test.gadget.created:v2"
    assert effect.version == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON"),
        (b"[1, 2]", "body is not a JSON object"),
        (b'{"type": "a.b"}', "attribute 'id' is missing"),
    ],
)
def test_from_bytes_rejects_malformed_body(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        Event.from_bytes(body)


def test_from_bytes_rejects_non_object_data(clock: FrozenClock) -> None:
    document = orjson.loads(widget_event(clock).to_bytes())
    document["data"] = ["sprocket"]

    with pytest.raises(InvalidEvent, match="'data' is missing or not a JSON object"):
        Event.from_bytes(orjson.dumps(document))


def test_from_bytes_rejects_time_without_offset(clock: FrozenClock) -> None:
    document = orjson.loads(widget_event(clock).to_bytes())
    document["time"] = "2026-01-15T12:00:00"

    with pytest.raises(InvalidEvent, match="has no UTC offset"):
        Event.from_bytes(orjson.dumps(document))


def test_version_of_malformed_dataschema_is_invalid(clock: FrozenClock) -> None:
    document = orjson.loads(widget_event(clock).to_bytes())
    document["dataschema"] = "urn:bwai:schema:test.widget.created"
    event = Event.from_bytes(orjson.dumps(document))

    with pytest.raises(InvalidEvent, match="does not end in ':v<N>'"):
        _ = event.version
