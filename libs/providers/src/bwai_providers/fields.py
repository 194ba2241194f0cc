"""Defensive readers for provider fields whose types drift between endpoints and versions.

NOWPayments sends `payment_id` as a number in IPNs and as a string elsewhere, `updated_at` as ISO
text or as epoch milliseconds, and amounts as numbers or strings. Each reader accepts every
spelling seen and raises PayloadInvalid, naming the field, for a value it cannot read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bwai_providers.errors import PayloadInvalid

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def required_text_id(payload: Mapping[str, Any], key: str, *, path: str | None = None) -> str:
    """Return an identifier as text; raise PayloadInvalid when it is absent or empty."""
    value = text_id(payload, key, path=path)
    if value is None:
        raise PayloadInvalid(f"'{path or key}' is required", field=path or key)
    return value


def text_id(payload: Mapping[str, Any], key: str, *, path: str | None = None) -> str | None:
    """Return an identifier given as a string or an integer as text, or None when absent."""
    value = payload.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _invalid(path or key, "must be a string or an integer")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, str):
        return value
    raise _invalid(path or key, "must be a string or an integer")


def optional_text(payload: Mapping[str, Any], key: str, *, path: str | None = None) -> str | None:
    """Return a string field, or None when absent, null or empty."""
    value = payload.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _invalid(path or key, "must be a string")
    return value


def amount(payload: Mapping[str, Any], key: str, *, path: str | None = None) -> Decimal | None:
    """Return an amount given as a JSON number or a decimal string, or None when absent."""
    value = payload.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise _invalid(path or key, "must be a number or a decimal string")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation as exc:
        raise _invalid(path or key, "must be a number or a decimal string") from exc
    if not number.is_finite():
        raise _invalid(path or key, "must be a finite number")
    return number


def timestamp(payload: Mapping[str, Any], key: str) -> datetime | None:
    """Return a UTC time from ISO 8601 text or epoch milliseconds, or None when unreadable.

    A provider time is informative only, so an unreadable one is dropped, not rejected.
    """
    value = payload.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal) or (isinstance(value, str) and value.isdigit()):
        return _from_epoch_ms(Decimal(value))
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A time without an offset is taken as UTC, the only zone providers use.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def mapping(payload: Mapping[str, Any], key: str, *, path: str | None = None) -> Mapping[str, Any]:
    """Return a nested object, or an empty one when absent or null."""
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _invalid(path or key, "must be an object")
    return value


def plain_decimal(value: Decimal | None) -> str | None:
    """Write a Decimal in plain notation, keeping the digits it was given with."""
    return None if value is None else format(value, "f")


def _from_epoch_ms(milliseconds: Decimal) -> datetime | None:
    try:
        return _EPOCH + timedelta(microseconds=int(milliseconds * 1000))
    except OverflowError:
        return None


def _invalid(field: str, problem: str) -> PayloadInvalid:
    return PayloadInvalid(f"'{field}' {problem}", field=field)
