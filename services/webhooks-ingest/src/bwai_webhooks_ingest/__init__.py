"""Webhooks ingest service: verifies and records provider webhooks."""
