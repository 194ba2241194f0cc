"""Coinbase Commerce charges, created with POST {base}/charges (API version 2018-03-22).

The charge metadata carries our order id, payment id and tenant id as strings. After an
ambiguous create, the charge is looked up by the payment id.
"""

from __future__ import annotations

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
    to_datetime,
    to_decimal,
)

NAME = "coinbase_commerce"
API_VERSION = "2018-03-22"
# Charges searched when looking a reference up; a lost create is found among the newest ones.
LOOKUP_PAGES = 3


class CoinbaseCommerceAdapter:
    name = NAME

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, api_key: str, timeout_s: float
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "X-CC-Api-Key": api_key,
            "X-CC-Version": API_VERSION,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._timeout = timeout_s

    async def create_checkout(
        self, order: CheckoutOrder, payment_id: UUID, pay_currency: str | None
    ) -> Checkout:
        body = jsonutil.dumps(_charge_body(order, payment_id))
        try:
            return await self._create(body, pay_currency)
        except AmbiguousFailure:
            found = await self.find_checkout_by_reference(str(payment_id))
            if found is not None:
                return found
        # No charge carries our payment id, so the first request never created one.
        try:
            return await self._create(body, pay_currency)
        except AmbiguousFailure as exc:
            raise ProviderUnavailable(
                f"Coinbase Commerce did not confirm the charge: {exc}"
            ) from exc

    async def find_checkout_by_reference(self, reference: str) -> Checkout | None:
        """Search the newest charges for one whose metadata.payment_id is `reference`."""
        url: str | None = f"{self._base_url}/charges?order=desc&limit=100"
        for _ in range(LOOKUP_PAGES):
            if url is None:
                return None
            body = await self._get(url)
            for charge in body.get("data") or []:
                metadata = charge.get("metadata") if isinstance(charge, dict) else None
                if isinstance(metadata, dict) and metadata.get("payment_id") == reference:
                    return _checkout(charge, reference, None)
            pagination = body.get("pagination")
            next_uri = pagination.get("next_uri") if isinstance(pagination, dict) else None
            url = next_uri if isinstance(next_uri, str) else None
        return None

    async def _create(self, body: bytes, pay_currency: str | None) -> Checkout:
        parsed = await post_create(
            self._client,
            NAME,
            f"{self._base_url}/charges",
            body,
            headers=self._headers,
            timeout_s=self._timeout,
            message_of=_message,
        )
        charge = parsed.get("data")
        if not isinstance(charge, dict):
            raise ProviderResponseInvalid("Coinbase Commerce response has no `data` charge")
        metadata = charge.get("metadata") or {}
        return _checkout(charge, str(metadata.get("payment_id") or ""), pay_currency)

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            response = await send(
                self._client,
                NAME,
                lambda: self._client.get(url, headers=self._headers, timeout=self._timeout),
            )
        except AmbiguousFailure as exc:
            raise ProviderUnavailable(f"Coinbase Commerce charge lookup failed: {exc}") from exc
        body = parse_json_object(response, NAME)
        if response.status_code >= 400:
            raise_rejected(response, NAME, _message(body))
        return body


def _charge_body(order: CheckoutOrder, payment_id: UUID) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Order {order.id}",
        "description": order.description or f"Order {order.id}",
        "pricing_type": "fixed_price",
        # Coinbase takes the amount as a string; Decimal keeps every digit.
        "local_price": {"amount": format(order.amount, "f"), "currency": order.currency},
        "metadata": {
            "order_id": str(order.id),
            "payment_id": str(payment_id),
            "tenant_id": order.tenant_id,
        },
    }
    if order.success_url:
        body["redirect_url"] = order.success_url
    if order.cancel_url:
        body["cancel_url"] = order.cancel_url
    return body


def _checkout(charge: dict[str, Any], reference: str, pay_currency: str | None) -> Checkout:
    charge_id = charge.get("id")
    url = charge.get("hosted_url")
    if not isinstance(charge_id, str) or not isinstance(url, str):
        raise ProviderResponseInvalid("Coinbase Commerce charge has no `id` or `hosted_url`")
    return Checkout(
        provider=NAME,
        checkout_id=charge_id,
        checkout_url=url,
        reference=reference,
        pay_currency=pay_currency,
        amount_due=_price_in(charge, pay_currency),
        expires_at=to_datetime(charge.get("expires_at")),
    )


def _price_in(charge: dict[str, Any], pay_currency: str | None) -> Any:
    # pricing has one {amount, currency} per network; pick the one priced in the pay currency.
    pricing = charge.get("pricing")
    if not pay_currency or not isinstance(pricing, dict):
        return None
    for price in pricing.values():
        if isinstance(price, dict) and str(price.get("currency", "")).lower() == pay_currency:
            return to_decimal(price.get("amount"))
    return None


def _message(body: dict[str, Any]) -> str | None:
    error = body.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else None
