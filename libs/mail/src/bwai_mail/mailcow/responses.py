"""Turn Mailcow's HTTP 200 responses to writes into a result or a typed error.

A write returns a JSON list with one entry per step, each `{"type", "log", "msg"}`, and a few
fallbacks return a single such object. Failures are also HTTP 200: an entry of type `danger` or
`error` fails the request; `warning` entries do not, and come back in the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bwai_mail.errors import (
    MailcowError,
    MailcowObjectExists,
    MailcowValidationError,
)
from bwai_mail.mailcow.models import MailcowResult

# Message keys that mean the object to add exists already. `is_alias_or_mailbox` is the alias
# route's response when the address is taken, by an alias or by a mailbox.
EXISTS_KEYS = frozenset({"domain_exists", "object_exists", "is_alias_or_mailbox"})

# Message keys that are not about the request's values.
GENERIC_KEYS = frozenset({"access_denied"})

FAILURE_TYPES = frozenset({"danger", "error"})

MASK = "***"


def parse_write(body: Any, *, secrets: Sequence[str] = ()) -> MailcowResult:
    """Return the result of a write, or raise the typed error for its first failed entry.

    `secrets` are the request's secret values (passwords), masked wherever they appear in a
    message so that no error text or log line carries them.
    """
    entries = _entries(body)
    messages = tuple(_msg(entry, secrets) for entry in entries)
    failures = [
        m for entry, m in zip(entries, messages, strict=True) if _type(entry) in FAILURE_TYPES
    ]
    if failures:
        raise _error_for(failures[0])
    warnings = tuple(
        m for entry, m in zip(entries, messages, strict=True) if _type(entry) == "warning"
    )
    return MailcowResult(messages=messages, warnings=warnings)


def read_failure(body: Any) -> MailcowError | None:
    """Return the error in a GET response (`{"type": "error", "msg": ...}`), else None."""
    if isinstance(body, dict) and _type(body) in FAILURE_TYPES and "msg" in body:
        return _error_for(_msg(body, ()))
    return None


def _entries(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list) or not body or not all(isinstance(e, dict) for e in body):
        raise MailcowError(
            f"Unexpected Mailcow response: expected a list of entries, got {body!r:.200}"
        )
    return body


def _type(entry: dict[str, Any]) -> str:
    return str(entry.get("type", ""))


def _msg(entry: dict[str, Any], secrets: Sequence[str]) -> tuple[str, ...]:
    raw = entry.get("msg")
    parts = raw if isinstance(raw, list) else [raw]
    return tuple(_mask(str(part), secrets) for part in parts if part is not None)


def _mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def _error_for(msg: tuple[str, ...]) -> MailcowError:
    key = msg[0] if msg else ""
    detail = f"Mailcow rejected the request: {', '.join(msg) or 'no message'}"
    if key in EXISTS_KEYS:
        return MailcowObjectExists(detail, msg=list(msg))
    if key in GENERIC_KEYS or " " in key:
        # A key with spaces is a generic English fallback, such as "Cannot add item".
        return MailcowError(detail, msg=list(msg))
    return MailcowValidationError(detail, msg=list(msg))
