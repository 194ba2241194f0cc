"""Trace helpers for work that belongs to an earlier trace: a webhook applied to a payment.

A provider's webhook arrives without our trace context, so webhooks-ingest starts a new trace
for it. The payment row stores the traceparent of its initiation. The handler that applies the
webhook opens `span_in_stored_trace` with that stored context as parent and a link to the
webhook's trace. So the ledger entry the webhook causes is in the initiation's trace, and the
webhook's own trace still leads there through the link.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from bwai_telemetry import tracing
from bwai_telemetry.context import context_from_traceparent


@contextmanager
def span_in_stored_trace(
    name: str, stored_traceparent: str | None, attributes: dict[str, str] | None = None
) -> Iterator[None]:
    """Run a block in a span whose parent is `stored_traceparent`, linked to the current span.

    Without a stored context (rows written before it was stored, or untraced initiations) the
    span is a child of the current span instead. A no-op when tracing is off.
    """
    if not tracing.tracing_enabled():
        yield
        return
    current = trace.get_current_span().get_span_context()
    parent = context_from_traceparent(stored_traceparent)
    links = [Link(current)] if parent is not None and current.is_valid else []
    with tracing.get_tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.INTERNAL, links=links, attributes=attributes
    ):
        yield
