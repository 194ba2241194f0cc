"""`bwai demo`: one order paid through the sandbox, printed step by step.

It uses only public interfaces: the platform's API (as an API client would) and the sandbox's
control API (standing in for the customer who pays on the checkout page).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import typer

from bwai_cli import clients
from bwai_cli.apiclient import ApiError, check, fetch_token

PAID_STATUSES = {"paid", "overpaid"}
POLL_INTERVAL_S = 0.2
POLL_LIMIT_S = 30.0


async def run(
    api_url: str,
    sandbox_url: str,
    provider: str,
    client_id: str | None,
    client_secret: str | None,
    data_dir: Path,
) -> int:
    """Return 0 when the order ends paid with its ledger posted, 1 otherwise."""
    if not client_id or not client_secret:
        created = await clients.create("demo", "tenant", "bwai demo", None, data_dir)
        client_id, client_secret = created["client_id"], created["client_secret"]
        _step(f"Created API client {client_id} for tenant 'demo'")
    async with httpx.AsyncClient(timeout=15) as http:
        try:
            return await _walk(http, api_url, sandbox_url, provider, client_id, client_secret)
        except (ApiError, httpx.HTTPError) as error:
            typer.echo(f"FAILED: {error}", err=True)
            return 1


async def _walk(
    http: httpx.AsyncClient,
    api_url: str,
    sandbox_url: str,
    provider: str,
    client_id: str,
    secret: str,
) -> int:
    token = await fetch_token(http, api_url, client_id, secret)
    auth = {"Authorization": f"Bearer {token}"}
    _step("Got an access token from identity")

    order = check(
        await http.post(
            f"{api_url}/v1/orders",
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
            json={
                "amount": "49.99",
                "currency": "USD",
                "description": "Website starter plan",
                "metadata": {"source": "bwai demo"},
                "success_url": "https://shop.example.test/thanks",
                "cancel_url": "https://shop.example.test/cancel",
            },
        )
    )
    _step(f"Created order {order['id']}: {order['amount']} {order['currency']} ({order['status']})")

    payment = check(
        await http.post(
            f"{api_url}/v1/orders/{order['id']}/payments",
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
            json={"provider": provider, "pay_currency": "btc"},
        )
    )
    _step(f"Started {provider} payment {payment['id']}; checkout page: {payment['checkout_url']}")

    checkout_id = payment["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
    sandbox_provider = "nowpayments" if provider == "nowpayments" else "coinbase"
    check(
        await http.post(
            f"{sandbox_url}/sandbox/v1/checkouts/{sandbox_provider}/{checkout_id}/pay",
            json={"outcome": "full"},
        )
    )
    _step("The customer paid in full on the sandbox checkout; the provider sends its webhooks")

    final = await _wait_for_paid(http, api_url, order["id"], auth)
    ledger = check(await http.get(f"{api_url}/v1/orders/{order['id']}/transactions", headers=auth))
    _step("Final order:")
    typer.echo(json.dumps(final, indent=2))
    _step("Ledger:")
    typer.echo(json.dumps(ledger, indent=2))
    if final["status"] not in PAID_STATUSES:
        typer.echo(f"FAILED: order ended {final['status']!r}, expected paid", err=True)
        return 1
    return 0


async def _wait_for_paid(
    http: httpx.AsyncClient, api_url: str, order_id: str, auth: dict[str, str]
) -> dict[str, Any]:
    seen = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_LIMIT_S
    while True:
        order: dict[str, Any] = check(
            await http.get(f"{api_url}/v1/orders/{order_id}", headers=auth)
        )
        if order["status"] != seen:
            seen = order["status"]
            _step(f"Order status: {seen}")
        if seen in PAID_STATUSES or loop.time() > deadline:
            return order
        await asyncio.sleep(POLL_INTERVAL_S)


def _step(text: str) -> None:
    typer.echo(f"==> {text}")
