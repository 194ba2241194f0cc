"""JSON that never routes money through float.

Outgoing: orjson, with Decimal written as a string (amounts travel as strings on our wire).
Incoming from outside: parse numbers as Decimal so provider amounts keep every digit.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def dumps(value: Any) -> bytes:
    """Serialise to compact JSON bytes; Decimal becomes a plain-notation string."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_UTC_Z)


def dumps_str(value: Any) -> str:
    return dumps(value).decode()


def loads(data: bytes | str) -> Any:
    """Parse JSON written by us (no floats expected; floats would stay float)."""
    return orjson.loads(data)


def loads_decimal(data: bytes | str) -> Any:
    """Parse JSON from outside: every non-integer number becomes a Decimal, integers stay exact."""
    return json.loads(data, parse_float=Decimal)


__all__ = ["UUID", "datetime", "dumps", "dumps_str", "loads", "loads_decimal"]
