"""HTTP foundation: FastAPI app factory, problem+json, JWT verification, idempotency keys."""
