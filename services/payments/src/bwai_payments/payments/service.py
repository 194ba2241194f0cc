"""Payment initiation: one provider checkout per request, never two for one Idempotency-Key."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import asyncpg
import structlog
from bwai_core.db import transaction
from bwai_core.ids import new_id
from bwai_messaging.outbox import enqueue
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
from bwai_payments.idempotent import Completion
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
    payments.payment.initiated event and the stored response then commit together.
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
    try:
        async with transaction(ctx.pool) as conn:
            row = await repository.insert_payment(
                conn,
                payment_id=payment_id,
                order_id=order["id"],
                provider=checkout.provider,
                checkout_id=checkout.checkout_id,
                provider_payment_id=provider_payment_id,
                checkout_url=checkout.checkout_url,
                pay_currency=checkout.pay_currency or pay_currency,
                amount_due=checkout.amount_due,
                expires_at=checkout.expires_at,
                now=ctx.clock.now(),
                trace_context=active_traceparent(),
            )
            if row is None:
                raise OrderNotPayable(f"order {order['id']} stopped being payable; not recorded")
            payment = PaymentOut.from_row(row)
            body = payment.model_dump(mode="json")
            order_body = {**dict(order), "amount": format_fiat(order["amount"], order["currency"])}
            await enqueue(
                conn,
                events.payment_initiated(dict(row), order_body, ctx.clock),
                schemas=ctx.schemas,
            )
            return await completion.complete(
                conn, 201, body, {"Location": f"/v1/payments/{payment_id}"}
            )
    except asyncpg.UniqueViolationError as exc:
        _log_orphan(checkout, payment_id)
        raise PaymentAlreadyActive(f"order {order['id']} got another active payment") from exc
    except OrderNotPayable:
        _log_orphan(checkout, payment_id)
        raise


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
