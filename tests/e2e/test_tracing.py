"""One payment is one trace: initiation, provider call, outbox, webhook effect and ledger entry.

The platform runs in this process on RabbitMQ with an in-memory span exporter. Tracing is
stopped when the module ends, so later tests run untraced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

import httpx
import pytest
from bwai_cli.embedded import Platform
from bwai_telemetry import TelemetrySettings, configure_tracing
from bwai_telemetry.tracing import stop_tracing
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, SpanKind

from tests.e2e.broker import delete_broker_objects
from tests.e2e.conftest import drop_databases, new_client, start_platform
from tests.e2e.flow import (
    create_order,
    ledger_of,
    pay_in_sandbox,
    start_payment,
    token_for,
    wait_for_order_status,
)

pytestmark = pytest.mark.rabbitmq

INITIATION_ROUTE = "POST /v1/orders/{order_id}/payments"


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing("bwai-test", TelemetrySettings(), exporter=exporter)
    yield exporter
    stop_tracing()


@pytest.fixture(scope="module")
async def traced_platform(
    spans: InMemorySpanExporter,
    amqp_url: str,
    pg_admin_dsn: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Platform]:
    platform = await start_platform(tmp_path_factory.mktemp("traced"), pg_admin_dsn, amqp_url)
    yield platform
    await platform.stop()
    await drop_databases(pg_admin_dsn, platform.config.database_prefix)
    queues = [queue for host in platform.hosts for queue in host.queues]
    await delete_broker_objects(amqp_url, platform.config.amqp_exchange, queues)


async def test_payment_is_one_trace(
    traced_platform: Platform, spans: InMemorySpanExporter, http: httpx.AsyncClient
) -> None:
    """Initiation, provider call, publish, webhook effect and ledger write share a trace id."""
    api = traced_platform.api_url
    auth = await token_for(http, api, *await new_client(traced_platform, "trace-shop", "tenant"))
    order = await create_order(http, api, auth)
    payment = await start_payment(http, api, auth, order["id"], "nowpayments")
    await pay_in_sandbox(http, traced_platform.sandbox_url, payment)
    await wait_for_order_status(http, api, auth, order["id"], {"paid"})
    assert len(await ledger_of(http, api, auth, order["id"])) == 1
    finished = spans.get_finished_spans()

    initiation = _one(finished, lambda s: s.name == INITIATION_ROUTE)
    trace_id = _context(initiation).trace_id
    in_trace = [span for span in finished if _context(span).trace_id == trace_id]
    provider_call = [
        span
        for span in in_trace
        if span.kind == SpanKind.CLIENT and "/nowpayments/v1/" in _url(span)
    ]
    published = [span for span in in_trace if span.name == "send payments.payment.initiated"]
    applied = [
        span
        for span in in_trace
        if span.name == "payments.provider_event.apply"
        and span.attributes is not None
        and span.attributes.get("bwai.payment_id") == payment["id"]
    ]
    ledger_writes = [span for span in in_trace if "INSERT INTO transactions" in _statement(span)]

    assert provider_call, "no httpx client span to the provider in the initiation's trace"
    assert published, "no producer span for payments.payment.initiated in the trace"
    assert applied, "no span applying the webhook to the payment in the trace"
    assert len(ledger_writes) == 1, "the ledger insert is not in the initiation's trace once"
    assert _has_ancestor(ledger_writes[0], applied, finished)


async def test_webhook_trace_links_to_payment_trace(
    traced_platform: Platform, spans: InMemorySpanExporter, http: httpx.AsyncClient
) -> None:
    """The payments consumer span of the webhook is linked from the payment's trace."""
    api = traced_platform.api_url
    auth = await token_for(http, api, *await new_client(traced_platform, "link-shop", "tenant"))
    order = await create_order(http, api, auth)
    payment = await start_payment(http, api, auth, order["id"], "coinbase_commerce")
    await pay_in_sandbox(http, traced_platform.sandbox_url, payment)
    await wait_for_order_status(http, api, auth, order["id"], {"paid"})
    finished = spans.get_finished_spans()

    applied = [
        span
        for span in finished
        if span.name == "payments.provider_event.apply"
        and span.attributes is not None
        and span.attributes.get("bwai.payment_id") == payment["id"]
    ]
    linked_ids = {link.context.span_id for span in applied for link in span.links}
    consumers = [
        span
        for span in finished
        if span.kind == SpanKind.CONSUMER
        and span.attributes is not None
        and span.attributes.get("bwai.service") == "payments"
        and _context(span).span_id in linked_ids
    ]

    assert applied
    assert consumers, "no payments consumer span is linked from the payment's trace"
    assert all(_context(span).trace_id != _context(applied[0]).trace_id for span in consumers), (
        "the webhook should keep its own trace, reached through the link"
    )


def _one(spans: Sequence[ReadableSpan], match: object) -> ReadableSpan:
    found = [span for span in spans if match(span)]  # type: ignore[operator]
    assert len(found) == 1, f"expected one matching span, found {[s.name for s in found]}"
    return found[0]


def _context(span: ReadableSpan) -> SpanContext:
    context: SpanContext | None = span.context
    assert context is not None
    return context


def _url(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("url.full") or attributes.get("http.url") or "")


def _statement(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("db.statement") or attributes.get("db.query.text") or "")


def _has_ancestor(
    span: ReadableSpan, ancestors: Sequence[ReadableSpan], spans: Sequence[ReadableSpan]
) -> bool:
    by_id = {_context(s).span_id: s for s in spans}
    wanted = {_context(s).span_id for s in ancestors}
    current: ReadableSpan | None = span
    while current is not None and current.parent is not None:
        if current.parent.span_id in wanted:
            return True
        current = by_id.get(current.parent.span_id)
    return False
