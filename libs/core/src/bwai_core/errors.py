"""The root of every service's typed errors, rendered as RFC 9457 problem+json at the HTTP edge.

A service defines one root subclass with its own `type` prefix, then one subclass per problem,
named `<Thing><Problem>` (`OrderNotFound`, `IdempotencyKeyReused`).
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://errors.buildwithai.dev/"


class ServiceError(Exception):
    """An expected failure with a stable problem type, an HTTP status and a human title."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.code

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidRequest(ServiceError):
    status = 400
    code = "invalid-request"
    title = "Invalid request"


class ValidationFailed(ServiceError):
    """Field-level validation errors; `errors` lists each with its field path and message."""

    status = 422
    code = "validation-failed"
    title = "Validation failed"

    def __init__(self, errors: list[dict[str, str]], detail: str | None = None) -> None:
        fields = ", ".join(e["field"] for e in errors)
        super().__init__(detail or f"Invalid fields: {fields}", errors=errors)


class Unauthenticated(ServiceError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class DependencyUnavailable(ServiceError):
    status = 503
    code = "dependency-unavailable"
    title = "A dependency is unavailable"
