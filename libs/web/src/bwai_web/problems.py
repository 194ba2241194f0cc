"""RFC 9457 problem+json responses for typed service errors and framework HTTP errors."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from bwai_core.errors import (
    PROBLEM_BASE,
    Conflict,
    DependencyUnavailable,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    Unauthenticated,
)
from bwai_core.jsonutil import dumps
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Framework errors (unknown route, body too large ...) reuse the problem types of the core errors,
# so a client sees one `type` per problem whether the framework or a service raised it.
_ERRORS_BY_STATUS: dict[int, type[ServiceError]] = {
    400: InvalidRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    503: DependencyUnavailable,
}


def problem_response(
    error: ServiceError,
    instance: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render `error` as application/problem+json with its status and its `headers` attribute.

    A 401 carries `WWW-Authenticate` (RFC 6750): the error's own `challenge` attribute when it
    has one, else a bare `Bearer`.
    """
    # An error class may declare response headers of its own (`Retry-After` on a 409).
    merged = {**getattr(error, "headers", {}), **(headers or {})}
    if isinstance(error, Unauthenticated):
        merged.setdefault("WWW-Authenticate", getattr(error, "challenge", "Bearer"))
    return _render(error.to_problem(instance), error.status, merged)


def http_problem_response(
    status: int,
    detail: str | None,
    instance: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render a framework HTTP error (a status and a detail) as problem+json."""
    error_class = _ERRORS_BY_STATUS.get(status)
    if error_class is None:
        return _render(_generic_problem(status, detail, instance), status, dict(headers or {}))
    return problem_response(error_class(detail), instance, headers=headers)


def _generic_problem(status: int, detail: str | None, instance: str | None) -> dict[str, Any]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "HTTP error"
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + phrase.lower().replace(" ", "-"),
        "title": phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if instance:
        body["instance"] = instance
    return body


def _render(body: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    return Response(
        content=dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )
