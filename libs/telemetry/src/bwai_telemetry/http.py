"""The HTTP server span of a request, continued from the caller's `traceparent` header."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from bwai_telemetry import tracing
from bwai_telemetry.context import context_from_traceparent, format_traceparent


@contextmanager
def server_span(service: str, method: str, traceparent: str | None) -> Iterator[str | None]:
    """Run a request in a server span and yield the span's traceparent (None untraced).

    The span is named by the method until `finish_server_span` renames it by route template.
    """
    if not tracing.tracing_enabled():
        yield None
        return
    with tracing.get_tracer().start_as_current_span(
        method,
        context=context_from_traceparent(traceparent),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "bwai.service": service},
        # The request middleware turns an exception into a 500 and reports it through
        # `finish_server_span`; recording it here too would duplicate the event.
        record_exception=False,
    ) as span:
        yield format_traceparent(span.get_span_context())


def finish_server_span(method: str, route: str, status: int) -> None:
    """Name the current server span by route template and record the response status."""
    if not tracing.tracing_enabled():
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.update_name(f"{method} {route}")
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
