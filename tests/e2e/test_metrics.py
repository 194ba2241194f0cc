"""One /metrics on the embedded platform's port serves every service, labelled by service."""

from __future__ import annotations

import asyncio

import httpx
from bwai_cli.embedded import Platform
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import new_client
from tests.e2e.flow import create_order, token_for

SERVICES = {"identity", "payments", "webhooks-ingest"}


async def test_metrics_has_series_per_service(embedded: Platform, http: httpx.AsyncClient) -> None:
    api = embedded.api_url
    auth = await token_for(http, api, *await new_client(embedded, "metrics-shop", "tenant"))
    await create_order(http, api, auth)
    await http.post(f"{api}/v1/webhooks/nowpayments", content=b"{}")

    samples = await _samples(http, api)

    assert {labels["service"] for name, labels in samples if name == "bwai_service_up"} >= SERVICES
    requests = {labels["service"] for name, labels in samples if name == "bwai_http_requests_total"}
    assert requests >= SERVICES
    outbox = {labels["service"] for name, labels in samples if name == "bwai_outbox_backlog_events"}
    assert outbox >= SERVICES


async def test_metrics_route_label_is_template(embedded: Platform, http: httpx.AsyncClient) -> None:
    api = embedded.api_url
    auth = await token_for(http, api, *await new_client(embedded, "route-shop", "tenant"))
    order = await create_order(http, api, auth)
    await http.get(f"{api}/v1/orders/{order['id']}", headers=auth)

    samples = await _samples(http, api)
    routes = {labels["route"] for name, labels in samples if name == "bwai_http_requests_total"}

    assert "/v1/orders/{order_id}" in routes
    assert not any(order["id"] in route for route in routes)


async def test_webhook_rejection_is_counted(embedded: Platform, http: httpx.AsyncClient) -> None:
    api = embedded.api_url
    before = _value(await _samples_with_values(http, api), "signature-missing")

    response = await http.post(f"{api}/v1/webhooks/nowpayments", content=b'{"payment_id": 1}')
    after = _value(await _samples_with_values(http, api), "signature-missing")

    assert response.status_code in (400, 401)
    assert after == before + 1


async def _samples(http: httpx.AsyncClient, api: str) -> list[tuple[str, dict[str, str]]]:
    return [(name, labels) for name, labels, _ in await _samples_with_values(http, api)]


async def _samples_with_values(
    http: httpx.AsyncClient, api: str
) -> list[tuple[str, dict[str, str], float]]:
    # The relay reports its backlog from its own task; give the first report a moment.
    for _ in range(50):
        response = await http.get(f"{api}/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        if "bwai_outbox_backlog_events" in response.text:
            break
        await asyncio.sleep(0.1)
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]


def _value(samples: list[tuple[str, dict[str, str], float]], reason: str) -> float:
    return sum(
        value
        for name, labels, value in samples
        if name == "bwai_webhook_verification_failures_total"
        and labels.get("provider") == "nowpayments"
        and labels.get("reason") == reason
    )
