"""Spans and metrics around the bus: a producer span per relayed event, a consumer span per
handled one.

The W3C context travels in the event's `traceparent` attribute (the CloudEvents distributed
tracing extension) and in the `traceparent` message header, which the buses copy from the event.
The relay replaces the attribute with its producer span, so a consumer span is the child of the
publish that sent it and the whole path sits in one trace.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram

from bwai_telemetry import metrics, tracing
from bwai_telemetry.context import context_from_traceparent, format_traceparent


class TracedEvent(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def time(self) -> datetime: ...
    @property
    def traceparent(self) -> str | None: ...


EventT = TypeVar("EventT", bound=TracedEvent)

# Labelled children by label values: `labels()` takes a lock and builds a key on every call,
# and these run once per message.
_ok: dict[tuple[str, str], Counter] = {}
_durations: dict[tuple[str, str], Histogram] = {}
_lags: dict[tuple[str, str], Histogram] = {}


@contextmanager
def publish_span(event: EventT, *, service: str | None = None) -> Iterator[EventT]:
    """Run a publish in a producer span and yield the event to send, stamped with that span.

    Without tracing the event is yielded unchanged. An exception marks the span as failed.
    """
    if not tracing.tracing_enabled():
        yield event
        return
    attributes = {
        "messaging.system": "bwai",
        "messaging.operation.type": "send",
        "messaging.destination.name": event.type,
        "messaging.message.id": event.id,
    }
    if service:
        attributes["bwai.service"] = service
    with tracing.get_tracer().start_as_current_span(
        f"send {event.type}",
        context=context_from_traceparent(event.traceparent),
        kind=SpanKind.PRODUCER,
        attributes=attributes,
    ) as span:
        traceparent = format_traceparent(span.get_span_context())
        yield dataclasses.replace(event, traceparent=traceparent)  # type: ignore[type-var]


@contextmanager
def consume_span(
    service: str, queue: str, event: TracedEvent, headers: Mapping[str, Any]
) -> Iterator[None]:
    """Handle one event in a consumer span and record throughput, failures, duration and lag.

    The parent is the `traceparent` message header, else the event's attribute. Lag is the wall
    time since the event's `time`, so it includes outbox, broker and retry delays.
    """
    started_wall = time.time()
    started = time.perf_counter()
    key = (service, event.type)
    _lag(key).observe(max(0.0, started_wall - event.time.timestamp()))
    try:
        if tracing.tracing_enabled():
            with _consumer_span(service, queue, event, headers):
                yield
        else:
            yield
    except Exception as error:
        metrics.CONSUMER_MESSAGES.labels(service, event.type, "failed").inc()
        metrics.CONSUMER_FAILURES.labels(service, event.type, type(error).__name__).inc()
        raise
    finally:
        _duration(key).observe(time.perf_counter() - started)
    _ok_counter(key).inc()


@contextmanager
def _consumer_span(
    service: str, queue: str, event: TracedEvent, headers: Mapping[str, Any]
) -> Iterator[None]:
    header = headers.get("traceparent")
    parent = header if isinstance(header, str) else event.traceparent
    with tracing.get_tracer().start_as_current_span(
        f"process {event.type}",
        context=context_from_traceparent(parent),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "bwai",
            "messaging.operation.type": "process",
            "messaging.destination.name": queue,
            "messaging.message.id": event.id,
            "bwai.service": service,
            "bwai.event.type": event.type,
        },
    ):
        yield


def count_invalid_event(service: str) -> None:
    """Count a message that is not a valid event; it has no type to label it with."""
    metrics.CONSUMER_MESSAGES.labels(service, "invalid", "failed").inc()
    metrics.CONSUMER_FAILURES.labels(service, "invalid", "InvalidEvent").inc()


def _ok_counter(key: tuple[str, str]) -> Counter:
    child = _ok.get(key)
    if child is None:
        child = _ok[key] = metrics.CONSUMER_MESSAGES.labels(*key, "ok")
    return child


def _duration(key: tuple[str, str]) -> Histogram:
    child = _durations.get(key)
    if child is None:
        child = _durations[key] = metrics.CONSUMER_DURATION.labels(*key)
    return child


def _lag(key: tuple[str, str]) -> Histogram:
    child = _lags.get(key)
    if child is None:
        child = _lags[key] = metrics.CONSUMER_LAG.labels(*key)
    return child
