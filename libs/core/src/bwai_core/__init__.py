"""Shared foundation: settings, logging, clock, ids, JSON, errors, PostgreSQL pool and migrations."""
