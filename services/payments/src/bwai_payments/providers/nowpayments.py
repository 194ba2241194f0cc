"""NOWPayments invoices: the hosted payment page, created with POST {base}/invoice.

Our reference is the payment id, sent as the invoice `order_id`; NOWPayments echoes it in every
IPN, so each checkout attempt of an order has its own reference.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
from bwai_core import jsonutil

from bwai_payments.errors import ProviderResponseInvalid, ProviderUnavailable
from bwai_payments.providers.base import (
    AmbiguousFailure,
    Checkout,
    CheckoutOrder,
    parse_json_object,
    post_create,
    raise_rejected,
    send,
)

NAME = "nowpayments"
WEBHOOK_PATH = "/v1/webhooks/nowpayments"


class NowPaymentsAdapter:
    name = NAME

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        public_base_url: str,
        timeout_s: float,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._headers = {"x-api-key": api_key, "Content-Type": "application/json"}
        self._ipn_url = public_base_url.rstrip("/") + WEBHOOK_PATH
        self._timeout = timeout_s

    async def create_checkout(
        self, order: CheckoutOrder, payment_id: UUID, pay_currency: str | None
    ) -> Checkout:
        reference = str(payment_id)
        body = _invoice_body(order, reference, pay_currency, self._ipn_url)
        try:
            return await self._create(body)
        except AmbiguousFailure:
            found = await self.find_checkout_by_reference(reference)
            if found is not None:
                return found
        # The provider has no invoice with our reference, so the first request never created one.
        try:
            return await self._create(body)
        except AmbiguousFailure as exc:
            raise _unavailable(exc) from exc

    async def find_checkout_by_reference(self, reference: str) -> Checkout | None:
        """Look an invoice up by its `order_id`.

        NOTE: NOWPayments documents no invoice search; this calls GET {base}/invoice?order_id=...,
        which the project's sandbox serves. Against the real API the lookup fails and the caller
        gets provider-unavailable instead of a second invoice.
        """
        try:
            response = await send(
                self._client,
                NAME,
                lambda: self._client.get(
                    f"{self._base_url}/invoice",
                    params={"order_id": reference},
                    headers=self._headers,
                    timeout=self._timeout,
                ),
            )
        except AmbiguousFailure as exc:
            raise _unavailable(exc) from exc
        if response.status_code == 404:
            # The search returns 200 with an empty list when nothing matches, so a 404 means the
            # API has no search at all; creating a second invoice then could double-charge.
            raise ProviderUnavailable("NOWPayments offers no invoice search; retry later")
        body = parse_json_object(response, NAME)
        if response.status_code >= 400:
            raise_rejected(response, NAME, _message(body))
        invoices = body.get("data")
        if not isinstance(invoices, list):
            raise ProviderResponseInvalid("NOWPayments invoice lookup has no `data` list")
        for invoice in invoices:
            if isinstance(invoice, dict) and str(invoice.get("order_id")) == reference:
                return _checkout(invoice, reference)
        return None

    async def _create(self, body: bytes) -> Checkout:
        parsed = await post_create(
            self._client,
            NAME,
            f"{self._base_url}/invoice",
            body,
            headers=self._headers,
            timeout_s=self._timeout,
            message_of=_message,
        )
        return _checkout(parsed, str(parsed.get("order_id") or ""))


def _invoice_body(
    order: CheckoutOrder, reference: str, pay_currency: str | None, ipn_url: str
) -> bytes:
    fields: dict[str, Any] = {
        "price_currency": order.currency.lower(),
        "order_id": reference,
        "order_description": order.description or f"Order {order.id}",
        "ipn_callback_url": ipn_url,
    }
    if pay_currency:
        fields["pay_currency"] = pay_currency.lower()
    if order.success_url:
        fields["success_url"] = order.success_url
    if order.cancel_url:
        fields["cancel_url"] = order.cancel_url
    return _with_number(jsonutil.dumps(fields), "price_amount", order.amount)


def _with_number(body: bytes, name: str, value: Decimal) -> bytes:
    # NOWPayments takes price_amount as a JSON number. orjson writes Decimal only as a string, so
    # the exact digits are added as a number literal instead of passing through float.
    literal = format(value, "f").encode()
    return b'{"' + name.encode() + b'":' + literal + b"," + body[1:]


def _checkout(invoice: dict[str, Any], reference: str) -> Checkout:
    invoice_id = invoice.get("id")
    url = invoice.get("invoice_url")
    if invoice_id is None or not isinstance(url, str):
        raise ProviderResponseInvalid("NOWPayments invoice has no `id` or `invoice_url`")
    pay_currency = invoice.get("pay_currency")
    return Checkout(
        provider=NAME,
        # The create response sends `id` as a string, IPNs send invoice_id as a number.
        checkout_id=str(invoice_id),
        checkout_url=url,
        reference=reference or str(invoice.get("order_id") or ""),
        pay_currency=pay_currency if isinstance(pay_currency, str) else None,
        # An invoice is priced in fiat; the crypto amount due arrives with the first IPN.
        amount_due=None,
        expires_at=None,
    )


def _message(body: dict[str, Any]) -> str | None:
    message = body.get("message")
    return message if isinstance(message, str) else None


def _unavailable(exc: AmbiguousFailure) -> ProviderUnavailable:
    return ProviderUnavailable(f"NOWPayments did not confirm the invoice: {exc}")
