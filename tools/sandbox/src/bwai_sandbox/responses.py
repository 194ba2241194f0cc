"""Response classes for bodies that contain Decimal amounts."""

from __future__ import annotations

from typing import Any

from bwai_core import jsonutil
from fastapi.responses import JSONResponse

from bwai_sandbox.jswriter import dumps_js


class JsNumberResponse(JSONResponse):
    """JSON whose Decimal values are JSON numbers in JavaScript spelling (NOWPayments)."""

    def render(self, content: Any) -> bytes:
        return dumps_js(content).encode("utf-8")


class DecimalStringResponse(JSONResponse):
    """JSON whose Decimal values are plain-notation strings (Coinbase and the control API)."""

    def render(self, content: Any) -> bytes:
        return jsonutil.dumps(content)
