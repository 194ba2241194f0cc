"""Prometheus metrics of the bus, the outbox, webhooks, payments and reconciliation.

Every metric lives in the process-wide default registry. In the embedded platform all services
share it, and the `service` label distinguishes them. Label values are bounded: service names,
event types, queue names, provider names and fixed reason codes, never ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# Consumer durations and initiation times are in the millisecond range. Lag can reach minutes
# while retries back off, because the default retry delays go up to 20 s.
_FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LAG_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

SERVICE_INFO = Gauge("bwai_service_up", "1 for each service hosted by this process.", ["service"])

CONSUMER_MESSAGES = Counter(
    "bwai_consumer_messages_total",
    "Events handled by a service's consumer, by outcome (ok or failed).",
    ["service", "event_type", "outcome"],
)
CONSUMER_FAILURES = Counter(
    "bwai_consumer_failures_total",
    "Failed handling attempts, by the exception type that ended them.",
    ["service", "event_type", "error_type"],
)
CONSUMER_DURATION = Histogram(
    "bwai_consumer_duration_seconds",
    "Time to handle one event, inbox row and commit included, in seconds.",
    ["service", "event_type"],
    buckets=_FAST_BUCKETS,
)
CONSUMER_LAG = Histogram(
    "bwai_consumer_lag_seconds",
    "Time from an event's `time` attribute to the start of its handling, in seconds.",
    ["service", "event_type"],
    buckets=_LAG_BUCKETS,
)
DEAD_LETTERS = Counter(
    "bwai_bus_dead_letters_total", "Messages moved to a dead-letter queue.", ["queue"]
)

OUTBOX_BACKLOG = Gauge(
    "bwai_outbox_backlog_events",
    "Events waiting in a service's outbox when the relay last looked (capped, see docs).",
    ["service"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "bwai_outbox_oldest_age_seconds",
    "Age of the oldest event waiting in a service's outbox, 0 when empty, in seconds.",
    ["service"],
)
OUTBOX_CHECKED = Gauge(
    "bwai_outbox_checked_timestamp_seconds",
    "Unix time at which the relay last measured its outbox.",
    ["service"],
)

WEBHOOK_FAILURES = Counter(
    "bwai_webhook_verification_failures_total",
    "Webhook deliveries rejected, by provider and reason code (signature-invalid, ...).",
    ["provider", "reason"],
)

PAYMENT_INITIATION = Histogram(
    "bwai_payment_initiation_duration_seconds",
    "Time to initiate a payment: idempotency claim, provider checkout and commit, in seconds.",
    ["provider"],
    buckets=_FAST_BUCKETS,
)

RECONCILIATION_MISMATCH_RATE = Gauge(
    "bwai_reconciliation_mismatch_rate",
    "Mismatched share (0..1) of the records of the provider's latest completed run.",
    ["provider"],
)
RECONCILIATION_COMPLETED = Gauge(
    "bwai_reconciliation_completed_timestamp_seconds",
    "Unix time at which the provider's latest reconciliation run completed.",
    ["provider"],
)


def register_service(service: str) -> None:
    """Mark `service` as hosted here, so /metrics has a series for it before any traffic."""
    SERVICE_INFO.labels(service).set(1)


def count_dead_letter(queue: str) -> None:
    DEAD_LETTERS.labels(queue).inc()


def observe_outbox(service: str, backlog: int, oldest_age_s: float, now_s: float) -> None:
    OUTBOX_BACKLOG.labels(service).set(backlog)
    OUTBOX_OLDEST_AGE.labels(service).set(oldest_age_s)
    OUTBOX_CHECKED.labels(service).set(now_s)


def count_webhook_failure(provider: str, reason: str) -> None:
    WEBHOOK_FAILURES.labels(provider, reason).inc()


@contextmanager
def timed_payment_initiation(provider: str) -> Iterator[None]:
    """Observe the block's duration in the initiation histogram, failed attempts included."""
    started = time.perf_counter()
    try:
        yield
    finally:
        PAYMENT_INITIATION.labels(provider).observe(time.perf_counter() - started)


def record_reconciliation_run(provider: str, mismatch_rate: Decimal, completed_at_s: float) -> None:
    """Publish a completed run's mismatch rate (a fraction, 0.001 is 0.1%) for the alert rule."""
    # A gauge stores a float. The rate is only compared with a threshold, never summed as money.
    RECONCILIATION_MISMATCH_RATE.labels(provider).set(float(mismatch_rate))
    RECONCILIATION_COMPLETED.labels(provider).set(completed_at_s)


def render_metrics() -> tuple[bytes, str]:
    """Return every metric of this process in the Prometheus text format and its media type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
