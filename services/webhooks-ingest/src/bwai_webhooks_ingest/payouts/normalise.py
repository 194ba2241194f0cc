"""The data of webhooks.payout_event.received v1, read from a verified NOWPayments payout IPN.

A payout IPN carries `id` (the withdrawal), `batch_withdrawal_id`, `status` in upper case,
`error`, `currency`, `amount` (a string), `address`, `hash` and the times, but no payment_id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from bwai_providers import PayloadInvalid

EVENT_TYPE = "webhooks.payout_event.received"


def normalise_payout_ipn(
    payload: Mapping[str, Any], *, delivery_id: UUID, received_at: datetime
) -> dict[str, Any]:
    """Return the event data; raise PayloadInvalid when `id` or `status` is missing."""
    payout_id = _text(payload.get("id"))
    status = _text(payload.get("status"))
    if payout_id is None:
        raise PayloadInvalid("payout IPN has no id", field="id")
    if status is None:
        raise PayloadInvalid("payout IPN has no status", field="status")
    status = status.upper()
    return {
        "delivery_id": str(delivery_id),
        "provider": "nowpayments",
        "provider_event_id": f"payout:{payout_id}:{status}",
        "payout_id": payout_id,
        "batch_withdrawal_id": _text(payload.get("batch_withdrawal_id")),
        "status": status,
        "error": _text(payload.get("error")),
        "currency": _text(payload.get("currency")),
        "amount": _amount(payload.get("amount")),
        "address": _text(payload.get("address")),
        "hash": _text(payload.get("hash")),
        "occurred_at": _time(payload.get("updated_at")),
        "received_at": _iso(received_at),
    }


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    return str(value)


def _amount(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError as exc:
        raise PayloadInvalid(f"payout amount {value!r} is not a number", field="amount") from exc
    if not amount.is_finite() or amount < 0:
        raise PayloadInvalid(f"payout amount {value!r} is invalid", field="amount")
    return format(amount.normalize(), "f")


def _time(value: Any) -> str | None:
    # updated_at has arrived as an ISO string and as epoch milliseconds.
    if isinstance(value, int) and not isinstance(value, bool):
        return _iso(datetime.fromtimestamp(value / 1000, UTC))
    if isinstance(value, str):
        try:
            return _iso(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
