"""In-test stand-ins for the provider APIs, served through httpx.MockTransport.

They implement the requests the adapters send (NOWPayments invoices, Coinbase Commerce charges)
and can inject the failures the sandbox cannot produce: a timeout after the provider stored the
checkout, a refused connection, a provider error response.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class FakeProviders:
    # Delay before each create returns, so concurrent requests really overlap.
    create_delay_s: float = 0.0
    invoices: list[dict[str, Any]] = field(default_factory=list)
    charges: list[dict[str, Any]] = field(default_factory=list)
    create_requests: list[httpx.Request] = field(default_factory=list)
    lookup_requests: list[httpx.Request] = field(default_factory=list)
    # Called with each create request before it is handled; may raise or return a response.
    on_create: Callable[[httpx.Request], httpx.Response | None] | None = None
    # Raise this after storing the checkout (the provider created it, the response was lost).
    fail_after_store: Exception | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/invoice"):
            return await self._create(request, self._create_invoice)
        if request.method == "GET" and path.endswith("/invoice"):
            self.lookup_requests.append(request)
            reference = request.url.params.get("order_id")
            found = [i for i in self.invoices if i["order_id"] == reference]
            return httpx.Response(200, json={"data": found})
        if request.method == "POST" and path.endswith("/charges"):
            return await self._create(request, self._create_charge)
        if request.method == "GET" and path.endswith("/charges"):
            self.lookup_requests.append(request)
            return httpx.Response(200, json={"data": self.charges, "pagination": {}})
        return httpx.Response(404, json={"message": "not found"})

    async def _create(
        self, request: httpx.Request, store: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> httpx.Response:
        self.create_requests.append(request)
        if self.on_create is not None:
            answer = self.on_create(request)
            if answer is not None:
                return answer
        if self.create_delay_s:
            await asyncio.sleep(self.create_delay_s)
        created = store(json.loads(request.content))
        failure, self.fail_after_store = self.fail_after_store, None
        if failure is not None:
            raise failure
        return httpx.Response(201, json=created)

    def _create_invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        invoice_id = str(4522625843 + len(self.invoices))
        invoice = {
            "id": invoice_id,
            "order_id": body["order_id"],
            "price_amount": str(body["price_amount"]),
            "price_currency": body["price_currency"],
            "pay_currency": body.get("pay_currency"),
            "invoice_url": f"https://nowpayments.io/payment/?iid={invoice_id}",
        }
        self.invoices.append(invoice)
        return invoice

    def _create_charge(self, body: dict[str, Any]) -> dict[str, Any]:
        charge_id = f"c3a9d2f4-5b1e-4f7a-9d0c-{len(self.charges):012d}"
        charge = {
            "id": charge_id,
            "code": f"QK{len(self.charges):06d}",
            "hosted_url": f"https://commerce.coinbase.com/charges/QK{len(self.charges):06d}",
            "metadata": body["metadata"],
            "expires_at": "2026-01-15T13:00:00Z",
            "pricing": {
                "local": body["local_price"],
                "bitcoin": {"amount": "0.00152000", "currency": "BTC"},
            },
        }
        self.charges.append(charge)
        return {"data": charge}
