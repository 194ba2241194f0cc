"""Payment initiation: one provider checkout per request, never two for one Idempotency-Key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from bwai_core.db import transaction
from bwai_core.ids import new_id
from bwai_messaging.envelope import Event
from bwai_telemetry import active_traceparent
from bwai_web.service import ServiceContext
from starlette.responses import Response

from bwai_payments import events
from bwai_payments.errors import (
    OrderNotFound,
    OrderNotPayable,
    PaymentAlreadyActive,
    PaymentNotFound,
)
from bwai_payments.idempotent import Completion, FinalResponse
from bwai_payments.money import format_fiat
from bwai_payments.payments import repository
from bwai_payments.payments.models import InitiatePaymentRequest, PaymentOut
from bwai_payments.providers import Checkout, CheckoutOrder, ProviderAdapter, adapter_for

log = structlog.get_logger()

PAYABLE_ORDER_STATUSES = frozenset({"open", "partially_paid"})
ADAPTERS_KEY = "payments.adapters"


def adapters(ctx: ServiceContext) -> dict[str, ProviderAdapter]:
    found: dict[str, ProviderAdapter] = ctx.extras.get(ADAPTERS_KEY, {})
    return found


async def initiate_payment(
    ctx: ServiceContext,
    order_id: UUID,
    order: asyncpg.Record | None,
    request: InitiatePaymentRequest,
    completion: Completion,
) -> Response:
    """Create a provider checkout for the order and record it as a payment.

    `order` is the row of `repository.PAYABLE_ORDER_SQL`, read with the idempotency claim. The
    provider call happens outside any transaction; the payment row, its
    payments.payment.initiated event and the stored response then commit together, in one
    statement.
    """
    adapter = adapter_for(adapters(ctx), request.provider)
    _check_payable(order, order_id)
    assert order is not None

    payment_id = new_id()
    checkout = await adapter.create_checkout(
        _checkout_order(order), payment_id, request.pay_currency
    )
    log.info(
        "payment.checkout.created",
        payment_id=str(payment_id),
        order_id=str(order_id),
        provider=checkout.provider,
        provider_checkout_id=checkout.checkout_id,
    )
    return await _record(ctx, order, payment_id, checkout, request.pay_currency, completion)


async def get_payment(ctx: ServiceContext, payment_id: UUID, tenant_id: str | None) -> PaymentOut:
    row, deposits = await repository.get_payment(ctx.pool, payment_id, tenant_id)
    if row is None:
        raise PaymentNotFound(f"payment {payment_id} not found")
    return PaymentOut.from_row(row, deposits)


def _check_payable(order: asyncpg.Record | None, order_id: UUID) -> None:
    if order is None:
        raise OrderNotFound(f"order {order_id} not found")
    if order["status"] not in PAYABLE_ORDER_STATUSES:
        raise OrderNotPayable(f"order {order_id} is {order['status']}; it cannot take a payment")
    if order["has_active_payment"]:
        raise PaymentAlreadyActive(
            f"order {order_id} has an active payment; start a new one after it expires or fails"
        )


async def _record(
    ctx: ServiceContext,
    order: asyncpg.Record,
    payment_id: UUID,
    checkout: Checkout,
    pay_currency: str | None,
    completion: Completion,
) -> Response:
    # Coinbase has one payment per charge; NOWPayments names its deposits with the first IPN.
    provider_payment_id = checkout.checkout_id if checkout.provider == "coinbase_commerce" else None
    row = repository.new_payment_row(
        payment_id=payment_id,
        order_id=order["id"],
        tenant_id=order["tenant_id"],
        provider=checkout.provider,
        checkout_id=checkout.checkout_id,
        provider_payment_id=provider_payment_id,
        checkout_url=checkout.checkout_url,
        pay_currency=checkout.pay_currency or pay_currency,
        amount_due=checkout.amount_due,
        expires_at=checkout.expires_at,
        now=ctx.clock.now(),
    )
    body = PaymentOut.from_row(row).model_dump(mode="json")
    order_body = {**dict(order), "amount": format_fiat(order["amount"], order["currency"])}
    initiated = events.payment_initiated(row, order_body, ctx.clock)
    response = completion.prepare(201, body, {"Location": f"/v1/payments/{payment_id}"})
    try:
        await _write(ctx, row, initiated, completion, response)
    except asyncpg.UniqueViolationError as exc:
        _log_orphan(checkout, payment_id)
        raise PaymentAlreadyActive(f"order {order['id']} got another active payment") from exc
    except OrderNotPayable:
        _log_orphan(checkout, payment_id)
        raise
    return response.to_response()


async def _write(
    ctx: ServiceContext,
    row: dict[str, Any],
    initiated: Event,
    completion: Completion,
    response: FinalResponse,
) -> None:
    """Commit the payment, its event and the stored response, in one statement when possible.

    An operator's request also writes an audit row (`completion.on_complete`), so its statement
    runs in a transaction with that row.
    """
    if completion.on_complete is None:
        recorded = await _record_payment(ctx.pool, ctx, row, initiated, completion, response)
        _check_recorded(recorded, row, completion)
        return
    async with transaction(ctx.pool) as conn:
        recorded = await _record_payment(conn, ctx, row, initiated, completion, response)
        _check_recorded(recorded, row, completion)
        await completion.on_complete(conn, response.status, response.body)


async def _record_payment(
    conn: asyncpg.Pool | asyncpg.Connection,
    ctx: ServiceContext,
    row: dict[str, Any],
    initiated: Event,
    completion: Completion,
    response: FinalResponse,
) -> repository.Recorded:
    return await repository.record_payment(
        conn,
        row,
        initiated=initiated,
        schemas=ctx.schemas,
        completion=completion,
        response=response,
        trace_context=active_traceparent(),
    )


def _check_recorded(
    recorded: repository.Recorded, row: dict[str, Any], completion: Completion
) -> None:
    if not recorded.inserted:
        raise OrderNotPayable(f"order {row['order_id']} stopped being payable; not recorded")
    if not recorded.completed:
        completion.report_missed()


def _log_orphan(checkout: Checkout, payment_id: UUID) -> None:
    # The checkout exists at the provider but not here. An IPN for it is parked and then
    # dead-lettered with the reason, so an operator finds it.
    log.warning(
        "payment.checkout.orphaned",
        payment_id=str(payment_id),
        provider=checkout.provider,
        provider_checkout_id=checkout.checkout_id,
    )


def _checkout_order(order: asyncpg.Record) -> CheckoutOrder:
    return CheckoutOrder(
        id=order["id"],
        tenant_id=order["tenant_id"],
        # NUMERIC(38,18) reads back with 18 places; providers get the currency's minor unit.
        # TODO: a partially paid order gets a checkout for its full amount, not the remainder.
        amount=Decimal(format_fiat(order["amount"], order["currency"])),
        currency=order["currency"],
        description=order["description"],
        success_url=order["success_url"],
        cancel_url=order["cancel_url"],
    )
