"""Reconciliation through the providers' list APIs, served by the project's sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from bwai_core.clock import FrozenClock
from bwai_core.ids import new_id
from bwai_payments.reconciliation.service import run_reconciliation
from bwai_payments.reconciliation.settings import ReconciliationSettings
from bwai_payments.settings import PaymentsSettings
from bwai_sandbox import create_app
from bwai_sandbox.settings import SandboxSettings
from bwai_web.service import ServiceContext
from reconciliation_seed import DAY, Side, at, seed_internal

SANDBOX = "http://sandbox.test"
SETTINGS = SandboxSettings(public_url=SANDBOX, coinbase_webhook_url=None)


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS, clock=FrozenClock(at(10)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX) as c:
        yield c


def _configure(ctx: ServiceContext, sandbox: httpx.AsyncClient) -> ReconciliationSettings:
    ctx.settings = PaymentsSettings(
        environment="test",
        nowpayments_api_url=f"{SANDBOX}/nowpayments/v1",
        nowpayments_api_key=SETTINGS.nowpayments_api_key,
        coinbase_commerce_api_url=f"{SANDBOX}/coinbase",
        coinbase_commerce_api_key=SETTINGS.coinbase_api_key,
    )
    ctx.http = sandbox
    ctx.clock = FrozenClock(at(12, day=DAY + timedelta(days=1)))
    return ReconciliationSettings(
        nowpayments_email=SETTINGS.nowpayments_email,
        nowpayments_password=SETTINGS.nowpayments_password,
    )


async def _paid_nowpayments(sandbox: httpx.AsyncClient) -> dict[str, object]:
    """Create an invoice with our reference and pay it in full; no IPN is sent (no URL)."""
    invoice = await sandbox.post(
        "/nowpayments/v1/invoice",
        json={
            "price_amount": 49.99,
            "price_currency": "usd",
            "pay_currency": "btc",
            "order_id": str(new_id()),
        },
        headers={"x-api-key": SETTINGS.nowpayments_api_key},
    )
    invoice_id = invoice.json()["id"]
    await sandbox.post(
        f"/sandbox/v1/checkouts/nowpayments/{invoice_id}/pay", json={"outcome": "full"}
    )
    shown = await sandbox.get(f"/sandbox/v1/checkouts/nowpayments/{invoice_id}")
    payment: dict[str, object] = shown.json()["payments"][0]
    return payment


def _side(payment: dict[str, object]) -> Side:
    return Side(
        str(payment["payment_id"]),
        status=str(payment["payment_status"]),
        pay_currency=str(payment["pay_currency"]),
        paid=Decimal(str(payment["actually_paid"])),
        outcome=Decimal(str(payment["outcome_amount"])),
        outcome_currency=str(payment["outcome_currency"]),
        changed_at=at(10),
    )


async def test_nowpayments_list_matches_and_finds_altered_amount(
    ctx: ServiceContext, sandbox: httpx.AsyncClient
) -> None:
    settings = _configure(ctx, sandbox)
    kept = await _paid_nowpayments(sandbox)
    altered = await _paid_nowpayments(sandbox)
    await seed_internal(ctx.pool, _side(kept))
    await seed_internal(ctx.pool, _side(altered))
    await sandbox.post(
        f"/sandbox/v1/records/nowpayments/{altered['payment_id']}",
        json={"actually_paid": "0.5", "updated_at": at(11).isoformat()},
    )

    run = await run_reconciliation(ctx, "nowpayments", DAY, settings=settings)

    outcomes = dict(
        await ctx.pool.fetch(
            "SELECT provider_payment_id, outcome FROM reconciliation_records WHERE run_id = $1",
            run["id"],
        )
    )
    assert outcomes == {
        str(kept["payment_id"]): "matched",
        str(altered["payment_id"]): "amount_mismatch",
    }
    assert run["source"] == "api"
    assert run["progress"] == 2


async def test_coinbase_list_finds_status_change(
    ctx: ServiceContext, sandbox: httpx.AsyncClient
) -> None:
    settings = _configure(ctx, sandbox)
    created = await sandbox.post(
        "/coinbase/charges",
        json={
            "name": "Order",
            "description": "Order",
            "pricing_type": "fixed_price",
            "local_price": {"amount": "49.99", "currency": "USD"},
            "metadata": {"order_id": str(new_id())},
        },
        headers={"X-CC-Api-Key": SETTINGS.coinbase_api_key, "X-CC-Version": "2018-03-22"},
    )
    charge_id = created.json()["data"]["id"]
    await seed_internal(
        ctx.pool,
        Side(
            charge_id,
            status="NEW",
            pay_currency="btc",
            paid=Decimal(0),
            outcome=None,
            outcome_currency=None,
        ),
        "coinbase_commerce",
    )
    await sandbox.post(
        f"/sandbox/v1/records/coinbase/{charge_id}",
        json={"status": "EXPIRED", "at": at(11).isoformat()},
    )

    run = await run_reconciliation(ctx, "coinbase_commerce", DAY, settings=settings)

    record = await ctx.pool.fetchrow(
        "SELECT * FROM reconciliation_records WHERE run_id = $1", run["id"]
    )
    assert record["outcome"] == "status_mismatch"
    assert record["provider_status"] == "expired"
    assert record["internal_status"] == "new"
