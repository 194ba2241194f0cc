"""The events payments publishes through its outbox (schemas in bwai_contracts, version 1).

- payments.order.created: when an order is created.
- payments.payment.initiated: when a provider checkout is created for an order.
- payments.payment.status_changed: when a provider event changes a payment's status, its amount
  actually paid, or its order's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bwai_core.clock import Clock
from bwai_messaging.envelope import Event, new_event

SOURCE = "/services/payments"
ORDER_CREATED = "payments.order.created"
PAYMENT_INITIATED = "payments.payment.initiated"
PAYMENT_STATUS_CHANGED = "payments.payment.status_changed"


def order_created(order: Mapping[str, Any], clock: Clock) -> Event:
    """Build payments.order.created from the order's response body."""
    data = {
        "order_id": str(order["id"]),
        "tenant_id": order["tenant_id"],
        "status": order["status"],
        "amount": order["amount"],
        "currency": order["currency"],
        "description": order["description"],
        "metadata": order["metadata"],
        "created_at": _iso(order["created_at"]),
    }
    return new_event(
        ORDER_CREATED,
        data,
        source=SOURCE,
        clock=clock,
        subject=data["order_id"],
        tenant_id=data["tenant_id"],
    )


def payment_initiated(payment: Mapping[str, Any], order: Mapping[str, Any], clock: Clock) -> Event:
    """Build payments.payment.initiated from the payment's and order's response bodies."""
    data = {
        "payment_id": str(payment["id"]),
        "order_id": str(payment["order_id"]),
        "tenant_id": payment["tenant_id"],
        "provider": payment["provider"],
        "provider_checkout_id": payment["provider_checkout_id"],
        "checkout_url": payment["checkout_url"],
        "pay_currency": payment["pay_currency"],
        "amount": order["amount"],
        "currency": order["currency"],
        "expires_at": _iso(payment["expires_at"]),
        "created_at": _iso(payment["created_at"]),
    }
    return new_event(
        PAYMENT_INITIATED,
        data,
        source=SOURCE,
        clock=clock,
        subject=data["payment_id"],
        tenant_id=data["tenant_id"],
    )


def payment_status_changed(data: dict[str, Any], clock: Clock, causation: Event) -> Event:
    return new_event(
        PAYMENT_STATUS_CHANGED,
        data,
        source=SOURCE,
        clock=clock,
        subject=data["payment_id"],
        tenant_id=data["tenant_id"],
        causation=causation,
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat().replace("+00:00", "Z"))
