"""NOWPayments error bodies: `{"status": false, "statusCode", "code", "message"}`."""

from __future__ import annotations

from typing import Any


class NowPaymentsError(Exception):
    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "status": False,
            "statusCode": self.status_code,
            "code": self.code,
            "message": self.message,
        }


def invalid_api_key() -> NowPaymentsError:
    return NowPaymentsError(403, "INVALID_API_KEY", "Invalid api key")


def auth_required() -> NowPaymentsError:
    return NowPaymentsError(401, "AUTH_REQUIRED", "Authorization header is required")


def invalid_params(message: str) -> NowPaymentsError:
    # NOTE: INVALID_REQUEST_PARAMS appears in third-party tests only; the docs list no codes.
    return NowPaymentsError(400, "INVALID_REQUEST_PARAMS", message)


def not_found(message: str) -> NowPaymentsError:
    return NowPaymentsError(404, "NOT_FOUND", message)
