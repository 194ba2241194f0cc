"""Normalising provider webhook bodies into `webhooks.provider_event.received` data."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import bwai_contracts
import fastjsonschema
import pytest
from bwai_providers import (
    PayloadInvalid,
    ProviderEventData,
    normalise_coinbase_event,
    normalise_nowpayments_ipn,
    parse_json_object,
)
from bwai_providers.coinbase import verify_webhook
from bwai_providers.nowpayments import verify_ipn
from provider_fixtures import load_vectors, payload_bytes

RECEIVED_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
DELIVERY_ID = "01900000-0000-7000-8000-000000000001"
SCHEMA = bwai_contracts.load_schema("webhooks.provider_event.received.v1.json")
validate_data = fastjsonschema.compile(SCHEMA)
NORMALISERS = {"nowpayments": normalise_nowpayments_ipn, "coinbase": normalise_coinbase_event}

EXPECTED: dict[str, dict[str, Any]] = {
    "nowpayments-ipn-waiting.json": {
        "provider_event_id": "5745459419:waiting:0",
        "event_type": "payment.waiting",
        "provider_status": "waiting",
        "checkout_id": "4522625843",
        "provider_payment_id": "5745459419",
        "merchant_reference": "ORD-2024-000123",
        "pay_currency": "btc",
        "pay_amount": "0.17070286",
        "actually_paid": "0",
        "price_amount": "3999.5",
        "price_currency": "usd",
        "outcome_amount": "0.16980718",
        "outcome_currency": "btc",
        "occurred_at": "2024-05-14T09:14:05.334000Z",
    },
    "nowpayments-ipn-finished.json": {
        "provider_event_id": "5745459419:finished:0.17070286",
        "event_type": "payment.finished",
        "provider_status": "finished",
        "checkout_id": "4522625843",
        "provider_payment_id": "5745459419",
        "actually_paid": "0.17070286",
        "occurred_at": "2024-05-14T10:02:47.903000Z",
    },
    "nowpayments-ipn-partially-paid.json": {
        "provider_event_id": "6120448831:partially_paid:120",
        "provider_status": "partially_paid",
        "checkout_id": None,
        "pay_amount": "150.62",
        "actually_paid": "120",
        "price_amount": "150",
        "outcome_amount": "118.615",
        "outcome_currency": "usdttrc20",
    },
    "coinbase-event-charge-created.json": {
        "provider_event_id": "2d0f6a19-8e3b-4f0e-a6d5-7c1b9e4f3a22",
        "event_type": "charge:created",
        "provider_status": "NEW",
        "status_context": None,
        "checkout_id": "c3a9d2f4-5b1e-4f7a-9d0c-2e8b6a41f7d3",
        "provider_payment_id": "c3a9d2f4-5b1e-4f7a-9d0c-2e8b6a41f7d3",
        "merchant_reference": "ORD-2024-000125",
        "pay_currency": None,
        "pay_amount": None,
        "actually_paid": "0",
        "price_amount": "100.00",
        "price_currency": "USD",
        "occurred_at": "2024-03-02T14:05:11Z",
    },
    "coinbase-event-charge-pending.json": {
        "event_type": "charge:pending",
        "provider_status": "PENDING",
        "pay_currency": "BTC",
        "pay_amount": "0.00152000",
        "actually_paid": "0.00152000",
        "confirmations": 0,
    },
    "coinbase-event-charge-confirmed.json": {
        "event_type": "charge:confirmed",
        "provider_status": "COMPLETED",
        "actually_paid": "0.00152000",
        "confirmations": 1,
        "occurred_at": "2024-03-02T14:41:05Z",
    },
    "coinbase-event-charge-failed.json": {
        "event_type": "charge:failed",
        "provider_status": "EXPIRED",
        "merchant_reference": "ORD-2024-000126",
        "actually_paid": "0",
    },
    "coinbase-event-charge-delayed.json": {
        "event_type": "charge:delayed",
        "provider_status": "UNRESOLVED",
        "status_context": "DELAYED",
        "pay_currency": "ETH",
        "actually_paid": "0.032840000",
        "confirmations": 12,
    },
    "coinbase-event-charge-resolved.json": {
        "event_type": "charge:resolved",
        "provider_status": "RESOLVED",
        "status_context": None,
        "provider_payment_id": "9c8b7a6d-5e4f-4b3a-a2c1-d0e9f8a7b6c5",
    },
}


def _normalise(name: str) -> dict[str, Any]:
    payload = parse_json_object(payload_bytes(name))
    normalise = NORMALISERS[name.split("-")[0]]
    return normalise(payload).to_event_data(delivery_id=DELIVERY_ID, received_at=RECEIVED_AT)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_payload_normalised(name: str) -> None:
    data = _normalise(name)

    for field, expected in EXPECTED[name].items():
        assert data[field] == expected, field


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_payload_matches_schema(name: str) -> None:
    data = _normalise(name)

    validate_data(data)
    assert data["delivery_id"] == DELIVERY_ID
    assert data["received_at"] == "2026-01-15T12:00:00Z"


@pytest.mark.parametrize(
    "vector",
    [v for v in load_vectors() if v["id"].startswith("DERIVED-") and v["kind"] == "valid"],
    ids=lambda v: v["id"],
)
def test_signed_sample_verifies_and_normalises(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8")
    verify = verify_ipn if vector["provider"] == "nowpayments" else verify_webhook
    normalise = NORMALISERS[vector["provider"].split("_")[0]]

    verified = verify(body, vector["signature"], [vector["secret"]])
    event = normalise(verified.payload)

    assert event.provider == vector["provider"]


def test_dataclass_fields_match_schema_properties() -> None:
    names = {f.name for f in dataclasses.fields(ProviderEventData)}

    assert names | {"delivery_id", "received_at"} == set(SCHEMA["properties"])


def test_nowpayments_epoch_ms_updated_at_and_string_ids() -> None:
    body = {
        "payment_id": "77",
        "payment_status": "confirming",
        "actually_paid": "0.50",
        "invoice_id": 12,
        "order_id": 900,
        "updated_at": 1715680967903,
    }

    event = normalise_nowpayments_ipn(body)

    assert event.provider_payment_id == "77"
    assert event.checkout_id == "12"
    assert event.merchant_reference == "900"
    assert event.actually_paid == Decimal("0.50")
    assert event.provider_event_id == "77:confirming:0.5"
    assert event.occurred_at == datetime(2024, 5, 14, 10, 2, 47, 903000, tzinfo=UTC)


def test_nowpayments_unreadable_time_falls_back_to_received_at() -> None:
    event = normalise_nowpayments_ipn(
        {"payment_id": 1, "payment_status": "waiting", "updated_at": "yesterday"}
    )

    data = event.to_event_data(delivery_id=DELIVERY_ID, received_at=RECEIVED_AT)

    assert data["occurred_at"] == "2026-01-15T12:00:00Z"
    validate_data(data)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payment_status": "finished"}, "payment_id"),
        ({"payment_id": None, "payment_status": "finished"}, "payment_id"),
        ({"payment_id": True, "payment_status": "finished"}, "payment_id"),
        ({"payment_id": 1}, "payment_status"),
        ({"payment_id": 1, "payment_status": 5}, "payment_status"),
        ({"payment_id": 1, "payment_status": "finished", "actually_paid": "lots"}, "actually_paid"),
        ({"payment_id": 1, "payment_status": "finished", "pay_amount": "NaN"}, "pay_amount"),
        ({"payment_id": 1, "payment_status": "finished", "price_amount": [1]}, "price_amount"),
    ],
)
def test_nowpayments_invalid_field_named(body: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadInvalid) as caught:
        normalise_nowpayments_ipn(body)

    assert caught.value.field == field


def _coinbase(charge: dict[str, Any], **event: Any) -> dict[str, Any]:
    return {"event": {"id": "ev-1", "type": "charge:pending", "data": charge, **event}}


def test_coinbase_onchain_shape() -> None:
    charge = {
        "id": "ch-1",
        "charge_kind": "WEB3",
        "metadata": {"order_id": "ORD-9"},
        "pricing": {
            "local": {"amount": "25.00", "currency": "USD"},
            "settlement": {"amount": "25.000000", "currency": "USDC"},
        },
        "payments": [
            {
                "payment_id": "0xabc",
                "network": "base",
                "status": "pending",
                "value": {
                    "local": {"amount": "10.00", "currency": "USD"},
                    "crypto": {"amount": "10.000000", "currency": "USDC"},
                },
            },
            {
                "payment_id": "0xdef",
                "network": "base",
                "status": "pending",
                "value": {"crypto": {"amount": "15.000000", "currency": "USDC"}},
            },
        ],
        "timeline": [
            {"status": "NEW", "time": "2024-06-01T10:00:00Z"},
            {"status": "SIGNED", "time": "2024-06-01T10:01:30Z"},
        ],
    }

    event = normalise_coinbase_event(_coinbase(charge))

    assert event.provider_status == "SIGNED"
    assert event.pay_currency == "USDC"
    assert event.actually_paid == Decimal("25.000000")
    assert event.pay_amount == Decimal("25.000000")
    assert event.outcome_amount == Decimal("25.000000")
    assert event.outcome_currency == "USDC"
    assert event.merchant_reference == "ORD-9"
    assert event.confirmations is None
    assert event.occurred_at == datetime(2024, 6, 1, 10, 1, 30, tzinfo=UTC)


def test_coinbase_charge_code_when_id_absent() -> None:
    event = normalise_coinbase_event(_coinbase({"code": "66BEOV2A", "timeline": []}))

    assert event.provider_payment_id == "66BEOV2A"
    assert event.provider_status is None


def test_coinbase_underpaid_context_and_confirmation_keys() -> None:
    charge = {
        "id": "ch-2",
        "payments": [
            {
                "value": {"crypto": {"amount": "0.001", "currency": "BTC"}},
                "block": {"confirmations": 3},
            },
            {
                "value": {"crypto": {"amount": "0.002", "currency": "BTC"}},
                "block": {"confirmations_accumulated": 5},
            },
        ],
        "timeline": [{"status": "NEW"}, {"status": "UNRESOLVED", "context": "UNDERPAID"}],
    }

    event = normalise_coinbase_event(_coinbase(charge, created_at="2024-03-02T14:19:40Z"))

    assert event.provider_status == "UNRESOLVED"
    assert event.status_context == "UNDERPAID"
    assert event.actually_paid == Decimal("0.003")
    assert event.confirmations == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": None}, "event.id"),
        ({"event": "x"}, "event"),
        ({"event": {"type": "charge:created", "data": {"id": "c"}}}, "event.id"),
        ({"event": {"id": "e", "data": {"id": "c"}}}, "event.type"),
        ({"event": {"id": "e", "type": "charge:created"}}, "event.data.id"),
        ({"event": {"id": "e", "type": "charge:created", "data": []}}, "event.data"),
        (
            {"event": {"id": "e", "type": "charge:created", "data": {"id": "c", "timeline": {}}}},
            "event.data.timeline",
        ),
    ],
)
def test_coinbase_invalid_field_named(body: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadInvalid) as caught:
        normalise_coinbase_event(body)

    assert caught.value.field == field


def test_event_data_is_json_ready() -> None:
    data = _normalise("nowpayments-ipn-finished.json")

    assert json.loads(json.dumps(data)) == data
