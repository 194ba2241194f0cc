"""Fixture data for the webhooks-ingest tests: vectors, sample payloads and test secrets."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

PROVIDER_FIXTURES = Path(__file__).parents[2] / "fixtures" / "providers"
# The DERIVED vectors sign the sample payloads with these test secrets.
IPN_SECRET = "test-ipn-secret"
COINBASE_SECRET = "test-webhook-secret"
# Address the in-process transport reports as the client's.
CLIENT_ADDRESS = ("203.0.113.7", 40123)

# Builds an HTTP client for an app made with the given WebhooksSettings values.
ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


def load_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((PROVIDER_FIXTURES / "vectors.json").read_text())
    return vectors


def vector(vector_id: str) -> dict[str, Any]:
    return next(v for v in load_vectors() if v["id"] == vector_id)
