"""Template contexts of the checkout and result pages for each provider."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bwai_providers.nowpayments import js_number

from bwai_sandbox import money
from bwai_sandbox.coinbase.models import NETWORKS, Charge
from bwai_sandbox.coinbase.payloads import amount_text
from bwai_sandbox.nowpayments.models import Invoice, Payment

# NOWPayments statuses after which the invoice takes a new payment.
_REOPENING = ("expired", "failed")


def nowpayments_page(invoice: Invoice, payments: list[Payment]) -> dict[str, Any]:
    latest = next((p for p in reversed(payments) if p.parent_payment_id is None), None)
    status = latest.status if latest else "waiting"
    return {
        "provider_label": "NOWPayments",
        "title": f"Invoice {invoice.id}",
        "description": invoice.order_description,
        "amount": f"{js_number(invoice.price_amount)} {invoice.price_currency.upper()}",
        "details": [("Order", invoice.order_id or "none"), ("Status", status)],
        "payable": latest is None or latest.status in _REOPENING,
        "status": status,
        "currencies": [(code, code.upper()) for code in money.SUPPORTED_ASSETS],
        "selected_currency": invoice.pay_currency or "btc",
        "extra_outcomes": [("fail", "Fail")],
    }


def coinbase_page(charge: Charge) -> dict[str, Any]:
    amount = "any amount"
    if charge.local_amount is not None:
        amount = f"{amount_text(charge.local_amount, 2)} {charge.local_currency}"
    quotes = [
        (
            network,
            f"{amount_text(q, money.asset_places(NETWORKS[network][0]))} {NETWORKS[network][1]}",
        )
        for network, q in charge.quotes.items()
    ]
    return {
        "provider_label": "Coinbase Commerce",
        "title": charge.name,
        "description": charge.description,
        "amount": amount,
        "details": [("Charge", charge.code), ("Status", charge.status), *quotes],
        "payable": charge.status == "NEW",
        "status": charge.status,
        "currencies": [(network, f"{network} ({code})") for network, (_, code) in NETWORKS.items()],
        "selected_currency": "bitcoin",
        "extra_outcomes": [("fail", "Fail"), ("late", "Pay after expiry")],
    }


def _quote_text(network: str, quote: Decimal) -> str:
    asset, currency = NETWORKS[network]
    return f"{amount_text(quote, money.asset_places(asset))} {currency}"


def nowpayments_return_url(invoice: Invoice, status: str) -> str | None:
    if status == "finished":
        return invoice.success_url
    if status == "partially_paid":
        return invoice.partially_paid_url or invoice.success_url
    if status in ("expired", "failed"):
        return invoice.cancel_url
    return invoice.success_url


def coinbase_return_url(charge: Charge) -> str | None:
    last = charge.timeline[-1]
    paid = last["status"] == "COMPLETED" or last.get("context") == "OVERPAID"
    return charge.redirect_url if paid else charge.cancel_url
