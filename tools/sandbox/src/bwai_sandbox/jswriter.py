"""JSON with numbers spelled as JavaScript spells them, keeping the caller's key order.

NOWPayments is a JavaScript service, so its bodies carry amounts as JSON numbers printed by
`Number.prototype.toString` (`0.000002`, never `2e-06`). Decimal values are written that way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bwai_providers.nowpayments import js_number


def dumps_js(value: Any) -> str:
    """Serialise compactly; dict keys stay in insertion order."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return js_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = (f"{dumps_js(str(k))}:{dumps_js(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps_js(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
