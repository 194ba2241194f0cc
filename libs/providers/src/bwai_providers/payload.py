"""Reading provider bodies as JSON without ever producing a float."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from bwai_providers.errors import PayloadInvalid

# Matches a high surrogate followed by a low one: together they are a single character.
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


@dataclass(frozen=True, slots=True)
class VerifiedPayload:
    """A body whose signature matched.

    `payload` is the parsed object: integers as int, other numbers as Decimal.
    `secret_index` is the position of the matching secret in the list given to the verifier
    (0 is the current secret, 1 the previous one during a rotation). `signed_form` tells
    which byte string carried the signature.
    """

    payload: dict[str, Any]
    secret_index: int
    signed_form: str = "raw_body"


def parse_json_object(raw_body: bytes) -> dict[str, Any]:
    """Parse a UTF-8 JSON object, keeping integers exact and other numbers as Decimal.

    Raises PayloadInvalid when the body is not UTF-8, not JSON, uses the non-standard
    NaN/Infinity literals, nests deeper than the interpreter's recursion limit allows, or is
    not an object at the top level.
    """
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadInvalid(f"body is not valid UTF-8 at byte {exc.start}") from exc
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PayloadInvalid(f"body is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    except ValueError as exc:
        # Python rejects integers of more than 4300 digits (sys.set_int_max_str_digits).
        raise PayloadInvalid(f"body is not acceptable JSON: {exc}") from exc
    except RecursionError as exc:
        raise PayloadInvalid("body is nested too deeply") from exc
    if not isinstance(value, dict):
        raise PayloadInvalid(f"body must be a JSON object, not {_json_type(value)}")
    return value


def join_surrogate_pairs(text: str) -> str:
    """Merge surrogate pairs stored as two code points into the character they encode."""
    return _SURROGATE_PAIR.sub(_join_pair, text)


def _join_pair(match: re.Match[str]) -> str:
    return match.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def _reject_constant(name: str) -> NoReturn:
    raise PayloadInvalid(f"body is not valid JSON: {name} is not a JSON value")


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
