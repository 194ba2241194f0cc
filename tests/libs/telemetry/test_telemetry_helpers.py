"""Telemetry helpers: traceparent formatting, settings, the bus metrics and the log processor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from bwai_telemetry import metrics
from bwai_telemetry.context import context_from_traceparent, span_context_of
from bwai_telemetry.logs import add_trace_ids
from bwai_telemetry.messaging import consume_span, count_invalid_event
from bwai_telemetry.settings import TelemetrySettings
from prometheus_client import REGISTRY

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@dataclass(frozen=True)
class _Event:
    id: str
    type: str
    time: datetime
    traceparent: str | None


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_traceparent_parses_to_remote_context() -> None:
    context = span_context_of(TRACEPARENT)

    assert context is not None
    assert f"{context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{context.span_id:016x}" == "b7ad6b7169203331"
    assert context.is_remote


@pytest.mark.parametrize("value", [None, "", "00-xyz", "00-" + "0" * 32 + "-" + "0" * 16 + "-01"])
def test_invalid_traceparent_gives_no_context(value: str | None) -> None:
    assert context_from_traceparent(value) is None


def test_otlp_url_appends_traces_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)

    settings = TelemetrySettings(otel_exporter_otlp_endpoint="http://127.0.0.1:4318/")

    assert settings.otlp_traces_url() == "http://127.0.0.1:4318/v1/traces"


def test_otlp_url_falls_back_to_standard_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")

    assert TelemetrySettings().otlp_traces_url() == "http://127.0.0.1:4318/v1/traces"


def test_otlp_url_unset_means_no_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.delenv("BWAI_OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)

    assert TelemetrySettings().otlp_traces_url() is None


def test_consume_span_counts_success_and_lag() -> None:
    event = _Event("e1", "unit.ok", datetime.now(UTC) - timedelta(seconds=2), None)
    before = _sample(
        "bwai_consumer_messages_total", service="unit", event_type="unit.ok", outcome="ok"
    )

    with consume_span("unit", "unit-queue", event, {}):
        pass

    after = _sample(
        "bwai_consumer_messages_total", service="unit", event_type="unit.ok", outcome="ok"
    )
    lag_sum = _sample("bwai_consumer_lag_seconds_sum", service="unit", event_type="unit.ok")
    assert after == before + 1
    assert lag_sum >= 2.0


def test_consume_span_counts_failure_by_type() -> None:
    event = _Event("e2", "unit.failing", datetime.now(UTC), None)

    with pytest.raises(KeyError), consume_span("unit", "unit-queue", event, {}):
        raise KeyError("missing")

    labels = {"service": "unit", "event_type": "unit.failing"}
    assert _sample("bwai_consumer_failures_total", **labels, error_type="KeyError") == 1
    assert _sample("bwai_consumer_messages_total", **labels, outcome="failed") == 1
    assert _sample("bwai_consumer_messages_total", **labels, outcome="ok") == 0


def test_invalid_event_is_counted() -> None:
    before = _sample(
        "bwai_consumer_failures_total",
        service="unit-invalid",
        event_type="invalid",
        error_type="InvalidEvent",
    )

    count_invalid_event("unit-invalid")

    after = _sample(
        "bwai_consumer_failures_total",
        service="unit-invalid",
        event_type="invalid",
        error_type="InvalidEvent",
    )
    assert after == before + 1


def test_outbox_gauges_hold_last_measurement() -> None:
    metrics.observe_outbox("unit-outbox", 7, 12.5, 1000.0)

    assert _sample("bwai_outbox_backlog_events", service="unit-outbox") == 7
    assert _sample("bwai_outbox_oldest_age_seconds", service="unit-outbox") == 12.5
    assert _sample("bwai_outbox_checked_timestamp_seconds", service="unit-outbox") == 1000.0


def test_log_processor_leaves_events_without_span_alone() -> None:
    event = add_trace_ids(None, "info", {"event": "unit.logged"})

    assert "trace_id" not in event
    assert "span_id" not in event
