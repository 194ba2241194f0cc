"""JSON written exactly as JavaScript's JSON.stringify writes it, with keys sorted at every depth.

NOWPayments signs the body in this form, so every byte matters. Numbers are spelled as
`Number.prototype.toString` spells the nearest double (ECMA-262 Number::toString). Strings are
escaped as JSON.stringify escapes them (ECMA-262 QuoteJSONString). Object keys come out in the
order JavaScript prints an object built from sorted keys.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bwai_providers.payload import join_surrogate_pairs

# An array index in ECMA-262: the canonical decimal text of an integer below 2**32 - 1.
# JavaScript lists such keys first, in numeric order, whatever order they were added in.
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")
_MAX_ARRAY_INDEX = 2**32 - 2

# Characters JSON.stringify escapes: the quote, the backslash, C0 controls, lone surrogates.
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\ud800-\udfff]')
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def canonical_json(value: Any, *, arrays_as_objects: bool = False) -> str:
    """Serialise `value` compactly as JSON.stringify would after sorting every object's keys.

    `value` comes from `parse_json_object`: dict, list, str, int, Decimal, bool or None.
    With `arrays_as_objects`, every array is written as an object keyed "0", "1", ...; the
    recursive sort sample in the NOWPayments docs produces that form.
    """
    parts: list[str] = []
    _write(value, parts, arrays_as_objects)
    return "".join(parts)


def js_number(value: int | Decimal) -> str:
    """Spell a number as JavaScript prints the IEEE-754 double nearest to it.

    Plain notation for 1e-6 <= |x| < 1e21, otherwise exponent notation with an explicit sign
    (`1e-7`, `1.5e+21`). `-0` prints as `0`. Integers beyond 2**53 lose precision exactly as they
    do in JavaScript. A value too large for a double prints as `null`, as JSON.stringify prints
    Infinity.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not a JSON number")
    try:
        number = float(value)
    except OverflowError:
        return "null"
    if math.isinf(number) or math.isnan(number):
        return "null"
    if number == 0:
        return "0"
    return _format_shortest(number)


def js_string(text: str) -> str:
    """Quote a string as JSON.stringify does; non-ASCII, `/`, `<`, `>` and `&` stay as they are."""
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, join_surrogate_pairs(text)) + '"'


def sorted_keys(keys: Sequence[str] | Mapping[str, Any]) -> list[str]:
    """Order keys as JavaScript prints an object built from keys sorted by UTF-16 code units."""
    indexes = sorted((k for k in keys if _is_array_index(k)), key=int)
    names = sorted((k for k in keys if not _is_array_index(k)), key=_utf16_units)
    return indexes + names


def _write(value: Any, parts: list[str], arrays_as_objects: bool) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(js_string(value))
    elif isinstance(value, int | Decimal):
        parts.append(js_number(value))
    elif isinstance(value, Mapping):
        _write_object(value, parts, arrays_as_objects)
    elif isinstance(value, list | tuple):
        if arrays_as_objects:
            _write_object({str(i): item for i, item in enumerate(value)}, parts, True)
        else:
            _write_array(value, parts, arrays_as_objects)
    else:
        raise TypeError(f"cannot write {type(value).__name__} as canonical JSON")


def _write_object(value: Mapping[str, Any], parts: list[str], arrays_as_objects: bool) -> None:
    parts.append("{")
    for position, key in enumerate(sorted_keys(value)):
        if position:
            parts.append(",")
        parts.append(js_string(key))
        parts.append(":")
        _write(value[key], parts, arrays_as_objects)
    parts.append("}")


def _write_array(value: Sequence[Any], parts: list[str], arrays_as_objects: bool) -> None:
    parts.append("[")
    for position, item in enumerate(value):
        if position:
            parts.append(",")
        _write(item, parts, arrays_as_objects)
    parts.append("]")


def _format_shortest(number: float) -> str:
    # repr() gives the shortest digit string that reads back to the same double, which is
    # the digit string ECMA-262 requires. Only the notation around the digits differs.
    sign, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    count = len(text)
    # The value is 0.<text> * 10**point, as ECMA-262 Number::toString defines n.
    point = exponent + count
    prefix = "-" if sign else ""
    if count <= point <= 21:
        return prefix + text + "0" * (point - count)
    if 0 < point <= 21:
        return prefix + text[:point] + "." + text[point:]
    if -6 < point <= 0:
        return prefix + "0." + "0" * -point + text
    power = point - 1
    mantissa = text if count == 1 else text[0] + "." + text[1:]
    return f"{prefix}{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _is_array_index(key: str) -> bool:
    return _ARRAY_INDEX.fullmatch(key) is not None and int(key) <= _MAX_ARRAY_INDEX


def _utf16_units(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare in the same order as the code units they encode.
    return key.encode("utf-16-be", "surrogatepass")
