"""Failures injected into the next create requests, so adapters can be tested against them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bwai_sandbox.models import Provider


class FaultMode(StrEnum):
    # Return 503 before reading the body, so nothing is created.
    REFUSE = "refuse"
    # Create the checkout, then hold the response for `hang_seconds` (past a client timeout).
    TIMEOUT_AFTER_CREATE = "timeout_after_create"
    # Return 500 without creating anything.
    ERROR_500 = "error_500"
    # Create the checkout, then return 500, so the caller cannot tell it exists.
    ERROR_500_AFTER_CREATE = "error_500_after_create"


# Modes that answer before the checkout is created.
FAIL_BEFORE_CREATE = frozenset({FaultMode.REFUSE, FaultMode.ERROR_500})


@dataclass(slots=True)
class Fault:
    id: int
    provider: Provider
    mode: FaultMode
    # Create requests still to be hit.
    remaining: int
    hang_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider.value,
            "mode": self.mode.value,
            "remaining": self.remaining,
            "hang_seconds": self.hang_seconds,
        }


class InjectedFailure(Exception):
    """Raised by a create handler to answer with the injected status in the provider's shape."""

    def __init__(self, provider: Provider, mode: FaultMode) -> None:
        super().__init__(f"injected {mode.value} for {provider.value}")
        self.provider = provider
        self.mode = mode

    @property
    def status_code(self) -> int:
        return 503 if self.mode is FaultMode.REFUSE else 500
