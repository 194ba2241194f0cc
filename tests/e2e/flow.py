"""Steps of the payment flow as an API client and a paying customer perform them."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import httpx

SANDBOX_PROVIDER = {"nowpayments": "nowpayments", "coinbase_commerce": "coinbase"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def token_for(
    http: httpx.AsyncClient, api_url: str, client_id: str, secret: str
) -> dict[str, str]:
    response = await http.post(
        f"{api_url}/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def create_order(
    http: httpx.AsyncClient, api_url: str, auth: dict[str, str], amount: str = "49.99", **extra: Any
) -> dict[str, Any]:
    response = await http.post(
        f"{api_url}/v1/orders",
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        json={"amount": amount, "currency": "USD", "description": "Starter site", **extra},
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def start_payment(
    http: httpx.AsyncClient, api_url: str, auth: dict[str, str], order_id: str, provider: str
) -> dict[str, Any]:
    response = await http.post(
        f"{api_url}/v1/orders/{order_id}/payments",
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        json={"provider": provider, "pay_currency": "btc"},
    )
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    return payment


async def pay_in_sandbox(
    http: httpx.AsyncClient,
    sandbox_url: str,
    payment: dict[str, Any],
    outcome: str = "full",
    **extra: Any,
) -> dict[str, Any]:
    checkout_id = payment["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
    provider = SANDBOX_PROVIDER[payment["provider"]]
    response = await http.post(
        f"{sandbox_url}/sandbox/v1/checkouts/{provider}/{checkout_id}/pay",
        json={"outcome": outcome, **extra},
    )
    assert response.status_code in (200, 202), response.text
    result: dict[str, Any] = response.json()
    return result


async def wait_for_order_status(
    http: httpx.AsyncClient,
    api_url: str,
    auth: dict[str, str],
    order_id: str,
    statuses: set[str],
    timeout_s: float = 30.0,
) -> dict[str, Any]:
    """Poll the order until its status is one of `statuses`; fail after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    order: dict[str, Any] = {}
    while loop.time() < deadline:
        response = await http.get(f"{api_url}/v1/orders/{order_id}", headers=auth)
        assert response.status_code == 200, response.text
        order = response.json()
        if order["status"] in statuses:
            return order
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {order_id} stayed {order.get('status')!r}, expected {statuses}")


async def ledger_of(
    http: httpx.AsyncClient, api_url: str, auth: dict[str, str], order_id: str
) -> list[dict[str, Any]]:
    response = await http.get(f"{api_url}/v1/orders/{order_id}/transactions", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items
