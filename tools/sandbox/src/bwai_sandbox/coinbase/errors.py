"""Coinbase Commerce error bodies: `{"error": {"type", "message"}}`."""

from __future__ import annotations

from typing import Any


class CoinbaseError(Exception):
    def __init__(self, status_code: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.error_type, "message": self.message}}


def authentication_error(message: str) -> CoinbaseError:
    return CoinbaseError(401, "authentication_error", message)


def param_required(name: str) -> CoinbaseError:
    return CoinbaseError(400, "param_required", f"{name} is required")


def validation_error(message: str) -> CoinbaseError:
    return CoinbaseError(400, "validation_error", message)


def invalid_request(message: str) -> CoinbaseError:
    return CoinbaseError(400, "invalid_request", message)


def not_found(message: str) -> CoinbaseError:
    return CoinbaseError(404, "not_found", message)
