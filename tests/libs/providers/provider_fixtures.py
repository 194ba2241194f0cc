"""Fixture data for the provider tests: the signature vectors and the sample payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROVIDER_FIXTURES = Path(__file__).parents[2] / "fixtures" / "providers"
PAYLOADS = PROVIDER_FIXTURES / "payloads"


def load_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((PROVIDER_FIXTURES / "vectors.json").read_text())
    return vectors


def payload_bytes(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()
