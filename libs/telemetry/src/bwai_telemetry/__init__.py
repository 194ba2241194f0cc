"""Observability: OpenTelemetry traces, Prometheus metrics and optional Sentry."""

from bwai_telemetry.context import active_traceparent
from bwai_telemetry.sentry import configure_sentry
from bwai_telemetry.settings import TelemetrySettings
from bwai_telemetry.tracing import configure_tracing, instrument_http_client, tracing_enabled

__all__ = [
    "TelemetrySettings",
    "active_traceparent",
    "configure_sentry",
    "configure_telemetry",
    "configure_tracing",
    "instrument_http_client",
    "tracing_enabled",
]


def configure_telemetry(service_name: str, settings: TelemetrySettings | None = None) -> None:
    """Configure tracing and Sentry for this process from the environment; call it once."""
    settings = settings or TelemetrySettings()
    configure_tracing(service_name, settings)
    configure_sentry(service_name, settings)
