"""OpenTelemetry tracing for one process: the tracer provider, its exporter and instrumentors.

Tracing is on only when something receives the spans: an OTLP endpoint from the environment, or
an exporter passed in (tests pass an InMemorySpanExporter). Otherwise nothing is installed, the
OpenTelemetry API stays a no-op, asyncpg and httpx are not wrapped, and every helper in this
package returns after one boolean check, so an unconfigured process pays close to nothing.
"""

from __future__ import annotations

import httpx
import structlog
from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from bwai_telemetry.logs import install_trace_log_processor
from bwai_telemetry.settings import TelemetrySettings

log = structlog.get_logger()

TRACER_NAME = "bwai"


class _State:
    provider: TracerProvider | None = None


_state = _State()


def configure_tracing(
    service_name: str,
    settings: TelemetrySettings | None = None,
    *,
    exporter: SpanExporter | None = None,
) -> bool:
    """Set up tracing for this process and return whether spans are recorded.

    Call it once per process, before any service starts, because the HTTP clients and the
    database driver are instrumented here. A later call adds `exporter` (when given) to the
    provider already installed and changes nothing else. `service_name` becomes the resource's
    `service.name`; in the embedded platform every service shares one process and one name, and
    each span carries the service in `bwai.service`.
    """
    settings = settings or TelemetrySettings()
    if _state.provider is not None:
        if exporter is not None:
            _state.provider.add_span_processor(SimpleSpanProcessor(exporter))
        return True

    url = settings.otlp_traces_url()
    if url is None and exporter is None:
        log.info("tracing.disabled", reason="no OTLP endpoint is configured")
        return False

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": service_name, "deployment.environment": settings.environment}
        ),
        sampler=ParentBased(TraceIdRatioBased(settings.otel_traces_sampler_ratio)),
    )
    if url is not None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    if exporter is not None:
        # Synchronous, so a test can read a span as soon as it ends.
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    install_trace_log_processor()
    _state.provider = provider
    log.info("tracing.configured", service=service_name, otlp_url=url)
    return True


def stop_tracing() -> None:
    """Stop recording spans in this process: flush, stop instrumenting asyncpg, forget the provider.

    OpenTelemetry's global provider cannot be replaced, so a later `configure_tracing` in the
    same process keeps using the first one. Tests that enable tracing call this when done so
    that later tests see the untraced behaviour.
    """
    if _state.provider is None:
        return
    AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    _state.provider.shutdown()
    _state.provider = None


def tracing_enabled() -> bool:
    return _state.provider is not None


def get_tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def instrument_http_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Give `client` a client span per request and a traceparent header; no-op untraced.

    The client is wrapped per instance because httpx's global instrumentation only covers
    httpx's own transports, not the aiohttp transport our clients use.
    """
    if _state.provider is not None:
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=_state.provider)
    return client


def shutdown_tracing() -> None:
    """Flush and stop the exporters; spans ended after this are dropped."""
    if _state.provider is not None:
        _state.provider.shutdown()
