"""Event bus (RabbitMQ and in-process), CloudEvents envelope, schema validation, outbox and inbox."""
