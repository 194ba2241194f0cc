"""Losing the RabbitMQ connection mid-flow loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from bwai_cli.embedded import Platform

from tests.e2e.broker import delete_broker_objects
from tests.e2e.conftest import drop_databases, new_client, start_platform
from tests.e2e.flow import (
    create_order,
    pay_in_sandbox,
    start_payment,
    token_for,
    wait_for_order_status,
)
from tests.e2e.ledger import (
    fetch_all,
    paid_per_payment,
    postings,
    repeated_posting_keys,
    wait_for_events_consumed,
    wait_for_outbox_empty,
    wait_for_statuses,
)
from tests.e2e.sandbox import checkout_id_of, paid_in_sandbox, wait_for_deliveries
from tests.e2e.tcp_proxy import TcpProxy

pytestmark = pytest.mark.rabbitmq

# How long the broker stays unreachable at least, while webhooks keep arriving.
CUT_SECONDS = 3.0
PROVIDERS = ["nowpayments", "coinbase_commerce"]


@pytest.fixture
async def proxy(amqp_url: str) -> AsyncIterator[TcpProxy]:
    target = urlsplit(amqp_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def platform(
    proxy: TcpProxy, amqp_url: str, pg_admin_dsn: str, tmp_path: Path
) -> AsyncIterator[Platform]:
    parts = urlsplit(amqp_url)
    netloc = parts.netloc.rsplit("@", 1)
    credentials = netloc[0] + "@" if len(netloc) == 2 else ""
    proxied = urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}"))
    platform = await start_platform(tmp_path, pg_admin_dsn, amqp_url=proxied)
    yield platform
    await platform.stop()
    await drop_databases(pg_admin_dsn, platform.config.database_prefix)
    queues = [queue for host in platform.hosts for queue in host.queues]
    await delete_broker_objects(amqp_url, platform.config.amqp_exchange, queues)


async def test_broker_cut_loses_and_doubles_nothing(
    platform: Platform, proxy: TcpProxy, http: httpx.AsyncClient
) -> None:
    """Cut the broker while payments settle, restore it: every payment posts exactly once."""
    api = platform.api_url
    auth = await token_for(http, api, *await new_client(platform, "loss-shop", "tenant"))
    before_cut = await _checkouts(http, api, auth, 6)
    during_cut = await _checkouts(http, api, auth, 6)
    databases = _databases(platform)

    await asyncio.gather(*(_pay(http, platform, s) for s in before_cut))
    await proxy.cut()
    cut_at = asyncio.get_running_loop().time()
    await asyncio.gather(*(_pay(http, platform, s) for s in during_cut))
    await wait_for_deliveries(http, platform.sandbox_url, _checkout_ids(during_cut))
    ready_during_cut = await _wait_for_readyz(http, api, 503)
    outbox_during_cut = await fetch_all(databases["webhooks-ingest"], "SELECT id FROM outbox")
    # A minimum outage length, not a synchronisation, because the webhooks are already stored.
    await asyncio.sleep(max(0.0, CUT_SECONDS - (asyncio.get_running_loop().time() - cut_at)))
    await proxy.restore()

    ready_after = await _wait_for_readyz(http, api, 200)
    scenarios = before_cut + during_cut
    expected = {s["order_id"]: "paid" for s in scenarios}
    statuses = await wait_for_statuses(databases["payments"], expected)
    missing = await wait_for_events_consumed(databases["webhooks-ingest"], databases["payments"])
    outbox_left = await wait_for_outbox_empty(databases["webhooks-ingest"])
    rows = await postings(databases["payments"])
    ledger = await paid_per_payment(databases["payments"])
    paid = {
        s["payment"]["id"]: await paid_in_sandbox(http, platform.sandbox_url, s["payment"])
        for s in scenarios
    }

    assert ready_during_cut == 503
    assert len(outbox_during_cut) > 0
    assert ready_after == 200
    assert statuses == expected
    assert missing == set()
    assert outbox_left == 0
    assert sorted(r["order_id"] for r in rows) == sorted(expected)
    assert repeated_posting_keys(rows) == []
    assert {payment_id: ledger.get(payment_id, Decimal(0)) for payment_id in paid} == paid

    later = (await _checkouts(http, api, auth, 1))[0]
    await _pay(http, platform, later)
    order = await wait_for_order_status(http, api, auth, later["order_id"], {"paid"})

    assert order["status"] == "paid"


async def _checkouts(
    http: httpx.AsyncClient, api: str, auth: dict[str, str], count: int
) -> list[dict[str, Any]]:
    """Create `count` orders with a checkout each, alternating providers."""
    scenarios = []
    for index in range(count):
        order = await create_order(http, api, auth, amount="30.00")
        payment = await start_payment(http, api, auth, order["id"], PROVIDERS[index % 2])
        scenarios.append({"order_id": order["id"], "payment": payment})
    return scenarios


async def _pay(http: httpx.AsyncClient, platform: Platform, scenario: dict[str, Any]) -> None:
    delivery = {"duplicates": 2, "shuffle": True, "seed": 11}
    await pay_in_sandbox(http, platform.sandbox_url, scenario["payment"], delivery=delivery)


def _checkout_ids(scenarios: list[dict[str, Any]]) -> set[str]:
    return {checkout_id_of(s["payment"]) for s in scenarios}


def _databases(platform: Platform) -> dict[str, str]:
    return {host.name: host.settings.database_url for host in platform.hosts}


async def _wait_for_readyz(
    http: httpx.AsyncClient, api: str, status: int, timeout_s: float = 30.0
) -> int:
    """Poll /readyz until it returns `status`, and return the last status seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        response = await http.get(f"{api}/readyz")
        if response.status_code == status or loop.time() > deadline:
            return response.status_code
        await asyncio.sleep(0.2)
