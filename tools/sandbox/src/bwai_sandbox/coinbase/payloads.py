"""Coinbase Commerce charge and webhook bodies. Amounts are strings, as Coinbase sends them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from bwai_providers.coinbase import sign_webhook

from bwai_sandbox import money
from bwai_sandbox.coinbase.models import API_VERSION, NETWORKS, Charge
from bwai_sandbox.timefmt import iso_seconds


def hosted_url(base_url: str, charge: Charge) -> str:
    return f"{base_url}/checkout/coinbase/{charge.code}"


def amount_text(amount: Decimal, places: int) -> str:
    return format(amount.quantize(Decimal(1).scaleb(-places)), "f")


def charge_data(charge: Charge, base_url: str) -> dict[str, Any]:
    """Return the charge resource in the field order of a create response."""
    data: dict[str, Any] = {
        "id": charge.id,
        "resource": "charge",
        "code": charge.code,
        "name": charge.name,
        "description": charge.description,
        "logo_url": "",
        "hosted_url": hosted_url(base_url, charge),
        "created_at": iso_seconds(charge.created_at),
        "expires_at": iso_seconds(charge.expires_at),
    }
    if charge.confirmed_at is not None:
        data["confirmed_at"] = iso_seconds(charge.confirmed_at)
    data |= {
        "timeline": json.loads(json.dumps(charge.timeline)),
        "metadata": dict(charge.metadata),
        "pricing_type": charge.pricing_type,
        "pricing": _pricing(charge),
        "payments": json.loads(json.dumps(charge.payments)),
        "addresses": dict(charge.addresses),
        "redirect_url": charge.redirect_url,
        "cancel_url": charge.cancel_url,
    }
    return data


def event(event_type: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    """Return an event object; its keys are alphabetical as in real deliveries."""
    return {
        "api_version": API_VERSION,
        "created_at": iso_seconds(at),
        "data": jsonb_ordered(data),
        "id": str(uuid.uuid4()),
        "resource": "event",
        "type": event_type,
    }


def webhook_body(event_object: dict[str, Any], envelope_id: str, attempt: int) -> bytes:
    """Serialise the webhook envelope compactly; `attempt_number` counts delivery attempts."""
    envelope = {
        "attempt_number": attempt,
        "event": event_object,
        "id": envelope_id,
        "scheduled_for": event_object["created_at"],
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def webhook_headers(body: bytes, secret: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-CC-Webhook-Signature": sign_webhook(body, secret),
    }


def jsonb_ordered(value: Any) -> Any:
    """Reorder object keys as PostgreSQL jsonb stores them: shorter keys first, then bytewise.

    Real deliveries print the charge in this order, so receivers see realistic bytes.
    """
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: jsonb_ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [jsonb_ordered(item) for item in value]
    return value


def _pricing(charge: Charge) -> dict[str, dict[str, str]]:
    pricing: dict[str, dict[str, str]] = {}
    if charge.local_amount is not None and charge.local_currency is not None:
        pricing["local"] = {
            "amount": amount_text(charge.local_amount, 2),
            "currency": charge.local_currency,
        }
    for network, quote in charge.quotes.items():
        asset, currency = NETWORKS[network]
        pricing[network] = {
            "amount": amount_text(quote, money.asset_places(asset)),
            "currency": currency,
        }
    return pricing
