"""W3C traceparent text to and from OpenTelemetry span contexts."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanContext
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from bwai_telemetry import tracing

_PROPAGATOR = TraceContextTextMapPropagator()


def format_traceparent(span_context: SpanContext) -> str | None:
    """Return the traceparent of a valid span context (version 00), else None."""
    if not span_context.is_valid:
        return None
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
        f"-{int(span_context.trace_flags):02x}"
    )


def active_traceparent() -> str | None:
    """Return the traceparent of the current span, or None when tracing is off or no span runs.

    Events created while a span is current carry it, so their consumers continue this trace.
    """
    if not tracing.tracing_enabled():
        return None
    return format_traceparent(trace.get_current_span().get_span_context())


def context_from_traceparent(traceparent: str | None) -> Context | None:
    """Return a context whose remote parent is `traceparent`; None for a missing or invalid one."""
    if not traceparent:
        return None
    context = _PROPAGATOR.extract({"traceparent": traceparent})
    if not trace.get_current_span(context).get_span_context().is_valid:
        return None
    return context


def span_context_of(traceparent: str | None) -> SpanContext | None:
    """Return the remote span context named by `traceparent`, for a span link."""
    context = context_from_traceparent(traceparent)
    if context is None:
        return None
    return trace.get_current_span(context).get_span_context()
