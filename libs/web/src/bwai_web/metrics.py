"""Prometheus request metrics: rate, errors and duration per service, route and status."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

HTTP_REQUESTS = Counter(
    "bwai_http_requests_total",
    "HTTP requests completed, by service, method, route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "bwai_http_request_duration_seconds",
    "Time from request start to the end of the response, in seconds.",
    ["service", "method", "route"],
    # Millisecond-scale buckets: the payment path aims at a p95 of 15 ms.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


# Labelled children by label values. `labels()` takes a lock and builds its key on every call,
# and the label sets are few (routes are templates), so each child is looked up once.
_counters: dict[tuple[str, str, str, int], Counter] = {}
_durations: dict[tuple[str, str, str], Histogram] = {}


def observe_request(service: str, method: str, route: str, status: int, duration_s: float) -> None:
    """Count one completed request and record its duration."""
    counter = _counters.get((service, method, route, status))
    if counter is None:
        counter = HTTP_REQUESTS.labels(service, method, route, str(status))
        _counters[(service, method, route, status)] = counter
    counter.inc()
    duration = _durations.get((service, method, route))
    if duration is None:
        duration = HTTP_REQUEST_DURATION.labels(service, method, route)
        _durations[(service, method, route)] = duration
    duration.observe(duration_s)


async def metrics_endpoint(request: Request) -> Response:
    """Serve every metric of this process in the Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
