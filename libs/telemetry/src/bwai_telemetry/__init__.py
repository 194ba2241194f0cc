"""Observability: OpenTelemetry traces, Prometheus metrics and optional Sentry."""
