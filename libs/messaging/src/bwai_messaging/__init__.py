"""Event bus (RabbitMQ and in-process), CloudEvents envelope, schema checks, outbox and inbox."""

from bwai_core.db import MigrationSource

# The outbox, inbox and inbox_failures tables; every service applies these before its own.
MESSAGING_MIGRATIONS = MigrationSource("messaging", "bwai_messaging")

__all__ = ["MESSAGING_MIGRATIONS"]
