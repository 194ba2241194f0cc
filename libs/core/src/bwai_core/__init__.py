"""Shared foundation: settings, logging, clock, ids, JSON, errors, PostgreSQL access."""
