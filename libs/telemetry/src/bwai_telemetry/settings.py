"""Telemetry settings, read from BWAI_* variables with the standard OTEL_* ones as fallback."""

from __future__ import annotations

import os

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelemetrySettings(BaseSettings):
    """Trace and error destinations. With nothing set there is no exporter and no Sentry."""

    model_config = SettingsConfigDict(env_prefix="BWAI_", extra="ignore", frozen=True)

    environment: str = "development"
    # Base URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (the collector's port).
    otel_exporter_otlp_endpoint: str | None = None
    # Head sampling ratio for new traces. The collector's tail sampling makes the real choice,
    # so every trace is recorded here unless this is lowered.
    otel_traces_sampler_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    sentry_dsn: SecretStr | None = None
    # Sentry keeps every error event and this share of transactions.
    sentry_traces_sample_rate: float = Field(default=0.01, ge=0.0, le=1.0)

    def otlp_traces_url(self) -> str | None:
        """Return the OTLP/HTTP traces URL, from BWAI_ or else the standard OTEL_ variables."""
        traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        if self.otel_exporter_otlp_endpoint is None and traces:
            return traces
        base = self.otel_exporter_otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if not base:
            return None
        base = base.rstrip("/")
        return base if base.endswith("/v1/traces") else f"{base}/v1/traces"
