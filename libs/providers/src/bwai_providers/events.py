"""Provider webhook bodies turned into the data of `webhooks.provider_event.received`.

Both normalisers read a verified payload (integers exact, other numbers Decimal), accept every
type drift seen in real deliveries, and raise PayloadInvalid naming the field when something
needed to route the event is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from bwai_providers import fields
from bwai_providers.errors import PayloadInvalid

Provider = Literal["nowpayments", "coinbase_commerce"]
EVENT_TYPE = "webhooks.provider_event.received"


@dataclass(frozen=True, slots=True)
class ProviderEventData:
    """One provider event in our terms; amounts are Decimal, ids are text."""

    provider: Provider
    provider_event_id: str
    event_type: str
    provider_status: str | None
    status_context: str | None
    checkout_id: str | None
    provider_payment_id: str
    parent_payment_id: str | None
    merchant_reference: str | None
    pay_currency: str | None
    pay_amount: Decimal | None
    actually_paid: Decimal | None
    price_amount: Decimal | None
    price_currency: str | None
    outcome_amount: Decimal | None
    outcome_currency: str | None
    confirmations: int | None
    occurred_at: datetime | None

    def to_event_data(self, *, delivery_id: UUID | str, received_at: datetime) -> dict[str, Any]:
        """Return the JSON-ready event data: amounts as decimal strings, times as ISO 8601 UTC.

        Without a readable provider time, `occurred_at` falls back to `received_at`.
        """
        return {
            "delivery_id": str(delivery_id),
            "provider": self.provider,
            "provider_event_id": self.provider_event_id,
            "event_type": self.event_type,
            "provider_status": self.provider_status,
            "status_context": self.status_context,
            "checkout_id": self.checkout_id,
            "provider_payment_id": self.provider_payment_id,
            "parent_payment_id": self.parent_payment_id,
            "merchant_reference": self.merchant_reference,
            "pay_currency": self.pay_currency,
            "pay_amount": fields.plain_decimal(self.pay_amount),
            "actually_paid": fields.plain_decimal(self.actually_paid),
            "price_amount": fields.plain_decimal(self.price_amount),
            "price_currency": self.price_currency,
            "outcome_amount": fields.plain_decimal(self.outcome_amount),
            "outcome_currency": self.outcome_currency,
            "confirmations": self.confirmations,
            "occurred_at": _iso_utc(self.occurred_at or received_at),
            "received_at": _iso_utc(received_at),
        }


def normalise_nowpayments_ipn(payload: Mapping[str, Any]) -> ProviderEventData:
    """Read a NOWPayments payment IPN.

    The event identity is "<payment_id>:<payment_status>:<actually_paid>", because NOWPayments
    sends one IPN per status and may repeat a status with a larger amount paid.
    """
    payment_id = fields.required_text_id(payload, "payment_id")
    status = fields.optional_text(payload, "payment_status")
    if status is None:
        raise PayloadInvalid("'payment_status' is required", field="payment_status")
    actually_paid = fields.amount(payload, "actually_paid")

    return ProviderEventData(
        provider="nowpayments",
        provider_event_id=f"{payment_id}:{status}:{_identity_amount(actually_paid)}",
        event_type=f"payment.{status}",
        provider_status=status,
        status_context=None,
        checkout_id=fields.text_id(payload, "invoice_id"),
        provider_payment_id=payment_id,
        parent_payment_id=fields.text_id(payload, "parent_payment_id"),
        merchant_reference=fields.text_id(payload, "order_id"),
        pay_currency=fields.optional_text(payload, "pay_currency"),
        pay_amount=fields.amount(payload, "pay_amount"),
        actually_paid=actually_paid,
        price_amount=fields.amount(payload, "price_amount"),
        price_currency=fields.optional_text(payload, "price_currency"),
        outcome_amount=fields.amount(payload, "outcome_amount"),
        outcome_currency=fields.optional_text(payload, "outcome_currency"),
        confirmations=None,
        occurred_at=_first_time(payload, "updated_at", "created_at"),
    )


def normalise_coinbase_event(payload: Mapping[str, Any]) -> ProviderEventData:
    """Read a Coinbase Commerce webhook, legacy (2018-03-22) or onchain (2024) charge shape.

    The status is the last timeline entry's, as Coinbase's own plugins read it; the amount
    actually paid is the sum of the payments' crypto values.
    """
    event = fields.mapping(payload, "event")
    event_id = fields.required_text_id(event, "id", path="event.id")
    event_type = fields.optional_text(event, "type", path="event.type")
    if event_type is None:
        raise PayloadInvalid("'event.type' is required", field="event.type")
    charge = fields.mapping(event, "data", path="event.data")
    # Coinbase's own SDK test event has a charge `code` but no `id`; both name the charge in
    # the charges API (GET /charges/{code_or_id}).
    charge_id = fields.text_id(charge, "id", path="event.data.id") or fields.required_text_id(
        charge, "code", path="event.data.id"
    )

    last_entry = _last_timeline_entry(charge)
    paid = _paid_in_first_currency(_list(charge, "payments", "event.data.payments"))
    pricing = fields.mapping(charge, "pricing", path="event.data.pricing")
    local = fields.mapping(pricing, "local", path="event.data.pricing.local")
    settlement = fields.mapping(pricing, "settlement", path="event.data.pricing.settlement")
    metadata = fields.mapping(charge, "metadata", path="event.data.metadata")
    reference = fields.text_id(metadata, "order_id", path="event.data.metadata.order_id")

    return ProviderEventData(
        provider="coinbase_commerce",
        provider_event_id=event_id,
        event_type=event_type,
        provider_status=fields.optional_text(last_entry, "status", path="timeline.status"),
        status_context=fields.optional_text(last_entry, "context", path="timeline.context"),
        checkout_id=charge_id,
        provider_payment_id=charge_id,
        parent_payment_id=None,
        merchant_reference=reference,
        pay_currency=paid.currency,
        pay_amount=_priced_in(pricing, paid.currency),
        actually_paid=paid.total,
        price_amount=fields.amount(local, "amount", path="event.data.pricing.local.amount"),
        price_currency=fields.optional_text(local, "currency"),
        outcome_amount=fields.amount(settlement, "amount"),
        outcome_currency=fields.optional_text(settlement, "currency"),
        confirmations=paid.confirmations,
        occurred_at=fields.timestamp(event, "created_at") or fields.timestamp(last_entry, "time"),
    )


@dataclass(frozen=True, slots=True)
class _Paid:
    currency: str | None
    total: Decimal
    confirmations: int | None


def _paid_in_first_currency(payments: Sequence[Any]) -> _Paid:
    # NOTE: a legacy charge paid in two different assets (context MULTIPLE) is summed in the
    # first payment's asset only, because amounts in different assets cannot be added.
    currency: str | None = None
    total = Decimal(0)
    confirmations: list[int] = []
    for payment in payments:
        if not isinstance(payment, Mapping):
            continue
        crypto = fields.mapping(fields.mapping(payment, "value"), "crypto")
        value = fields.amount(crypto, "amount", path="event.data.payments.value.crypto.amount")
        paid_in = fields.optional_text(crypto, "currency")
        if value is None or paid_in is None:
            continue
        currency = currency or paid_in
        if paid_in == currency:
            total += value
            confirmations += _confirmations(payment)
    return _Paid(currency, total, min(confirmations) if confirmations else None)


def _confirmations(payment: Mapping[str, Any]) -> list[int]:
    # Most captures name it `confirmations_accumulated`; a real pending one used `confirmations`.
    block = fields.mapping(payment, "block")
    for key in ("confirmations_accumulated", "confirmations"):
        value = block.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return [value]
    return []


def _priced_in(pricing: Mapping[str, Any], currency: str | None) -> Decimal | None:
    """Return the charge's price in the asset that was paid, from the per-network pricing."""
    if currency is None:
        return None
    for network, price in pricing.items():
        if network != "local" and isinstance(price, Mapping) and price.get("currency") == currency:
            return fields.amount(price, "amount", path=f"event.data.pricing.{network}.amount")
    return None


def _last_timeline_entry(charge: Mapping[str, Any]) -> Mapping[str, Any]:
    timeline = _list(charge, "timeline", "event.data.timeline")
    entries = [entry for entry in timeline if isinstance(entry, Mapping)]
    return entries[-1] if entries else {}


def _list(payload: Mapping[str, Any], key: str, path: str) -> Sequence[Any]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadInvalid(f"'{path}' must be an array", field=path)
    return value


def _identity_amount(value: Decimal | None) -> str:
    # One spelling per value, so `120`, `120.0` and `1.2E+2` name the same IPN.
    if not value:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _first_time(payload: Mapping[str, Any], *keys: str) -> datetime | None:
    # `updated_at` has arrived as epoch milliseconds with no `created_at` at all.
    for key in keys:
        moment = fields.timestamp(payload, key)
        if moment is not None:
            return moment
    return None


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
