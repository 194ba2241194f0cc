"""Reads of the provider sandbox's control API: what was paid and which webhooks went out."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from tests.e2e.flow import SANDBOX_PROVIDER


def checkout_id_of(payment: dict[str, Any]) -> str:
    return str(payment["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]


async def paid_in_sandbox(
    http: httpx.AsyncClient, sandbox_url: str, payment: dict[str, Any]
) -> Decimal:
    """Return the crypto amount the customer sent on the payment's checkout, per the sandbox."""
    provider = SANDBOX_PROVIDER[payment["provider"]]
    response = await http.get(
        f"{sandbox_url}/sandbox/v1/checkouts/{provider}/{checkout_id_of(payment)}"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    if provider == "nowpayments":
        return sum((Decimal(str(p["actually_paid"])) for p in body["payments"]), Decimal(0))
    charge_payments = body["charge"]["payments"]
    return sum((Decimal(str(p["value"]["crypto"]["amount"])) for p in charge_payments), Decimal(0))


async def wait_for_deliveries(
    http: httpx.AsyncClient, sandbox_url: str, checkout_ids: set[str], timeout_s: float = 45.0
) -> list[dict[str, Any]]:
    """Poll until no webhook of these checkouts is scheduled or retrying, and return them all."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        response = await http.get(f"{sandbox_url}/sandbox/v1/deliveries")
        assert response.status_code == 200, response.text
        ours = [d for d in response.json()["data"] if d["checkout_id"] in checkout_ids]
        pending = [d for d in ours if d["state"] in ("scheduled", "retrying")]
        if not pending or loop.time() > deadline:
            return ours
        await asyncio.sleep(0.25)
