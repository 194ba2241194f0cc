"""Optional Sentry error reporting, on only when BWAI_SENTRY_DSN is set."""

from __future__ import annotations

import structlog

from bwai_telemetry.settings import TelemetrySettings

log = structlog.get_logger()


def configure_sentry(service_name: str, settings: TelemetrySettings | None = None) -> bool:
    """Start the Sentry SDK when a DSN is set; return whether it runs.

    Every error event is sent, and `sentry_traces_sample_rate` of transactions (1% by default).
    """
    settings = settings or TelemetrySettings()
    if settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value():
        return False
    import sentry_sdk  # imported here: most processes run without Sentry

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        server_name=service_name,
        sample_rate=1.0,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        # Request bodies and headers can carry tokens and webhook signatures.
        send_default_pii=False,
        max_request_body_size="never",
    )
    log.info("sentry.configured", service=service_name)
    return True
