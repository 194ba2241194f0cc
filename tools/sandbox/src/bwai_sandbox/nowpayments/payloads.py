"""NOWPayments response and IPN bodies, with each field's type as NOWPayments sends it.

Types drift between endpoints on purpose: the invoice response carries `id` and `price_amount`
as strings, while the payment status and the IPN carry ids and amounts as JSON numbers.
Amounts stay Decimal here; the writer spells them as JavaScript does.
"""

from __future__ import annotations

from typing import Any

from bwai_providers.nowpayments import js_number

from bwai_sandbox.nowpayments.models import Invoice, Payment
from bwai_sandbox.timefmt import iso_millis


def checkout_url(base_url: str, invoice: Invoice) -> str:
    return f"{base_url}/checkout/nowpayments/{invoice.id}"


def invoice_response(invoice: Invoice, base_url: str) -> dict[str, Any]:
    """Return the body of `POST /v1/invoice`, in the field order of a real response."""
    return {
        "id": invoice.id,
        "token_id": invoice.token_id,
        "order_id": invoice.order_id,
        "order_description": invoice.order_description,
        "price_amount": js_number(invoice.price_amount),
        "price_currency": invoice.price_currency,
        "pay_currency": invoice.pay_currency,
        "ipn_callback_url": invoice.ipn_callback_url,
        "invoice_url": checkout_url(base_url, invoice),
        "success_url": invoice.success_url,
        "cancel_url": invoice.cancel_url,
        "partially_paid_url": invoice.partially_paid_url,
        "payout_currency": None,
        "created_at": iso_millis(invoice.created_at),
        "updated_at": iso_millis(invoice.updated_at),
        "is_fixed_rate": invoice.is_fixed_rate,
        "is_fee_paid_by_user": invoice.is_fee_paid_by_user,
    }


def payment_status(payment: Payment) -> dict[str, Any]:
    """Return the body of `GET /v1/payment/{id}`: `payment_id` and amounts as numbers."""
    return {
        "payment_id": payment.payment_id,
        "invoice_id": payment.invoice_id,
        "payment_status": payment.status,
        "pay_address": payment.pay_address,
        "payin_extra_id": None,
        "price_amount": payment.price_amount,
        "price_currency": payment.price_currency,
        "pay_amount": payment.pay_amount,
        "actually_paid": payment.actually_paid,
        "pay_currency": payment.pay_currency,
        "order_id": payment.order_id,
        "order_description": payment.order_description,
        "purchase_id": payment.purchase_id,
        "created_at": iso_millis(payment.created_at),
        "updated_at": iso_millis(payment.updated_at),
        "outcome_amount": payment.outcome_amount,
        "outcome_currency": payment.pay_currency,
        "parent_payment_id": payment.parent_payment_id,
    }


def ipn(payment: Payment) -> dict[str, Any]:
    """Return the IPN body for the payment's current status, with the documented fields."""
    return {
        "payment_id": payment.payment_id,
        "parent_payment_id": payment.parent_payment_id,
        "invoice_id": payment.invoice_id,
        "payment_status": payment.status,
        "pay_address": payment.pay_address,
        "payin_extra_id": None,
        "price_amount": payment.price_amount,
        "price_currency": payment.price_currency,
        "pay_amount": payment.pay_amount,
        "actually_paid": payment.actually_paid,
        "actually_paid_at_fiat": payment.actually_paid_at_fiat,
        "pay_currency": payment.pay_currency,
        "order_id": payment.order_id,
        "order_description": payment.order_description,
        "purchase_id": payment.purchase_id,
        "created_at": iso_millis(payment.created_at),
        "updated_at": iso_millis(payment.updated_at),
        "outcome_amount": payment.outcome_amount,
        "outcome_currency": payment.pay_currency,
        "payment_extra_ids": None,
        "fee": {
            "currency": payment.fee.currency,
            "depositFee": payment.fee.deposit_fee,
            "withdrawalFee": payment.fee.withdrawal_fee,
            "serviceFee": payment.fee.service_fee,
        },
    }
