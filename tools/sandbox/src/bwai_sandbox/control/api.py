"""The control API for tests, under `/sandbox/v1`.

- `POST /checkouts/{provider}/{id}/pay`: play a payment outcome and send its webhooks.
- `POST /checkouts/nowpayments/{id}/deposit`: a repeated deposit to the invoice's address.
- `GET /checkouts/{provider}/{id}`: the checkout as the sandbox stores it.
- `GET /requests`: provider API requests received, oldest first.
- `POST /faults`, `GET /faults`: failures for the next create requests.
- `GET /deliveries`, `GET /deliveries/{id}`, `POST /deliveries/{id}/resend`: webhooks sent.
- `POST /records/nowpayments/{payment_id}`, `POST /records/coinbase/{charge_id}`: change a
  provider record without sending a webhook (seeds reconciliation mismatches).
- `POST /reset`: forget everything.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bwai_sandbox.coinbase.payloads import charge_data
from bwai_sandbox.control.alterations import (
    CoinbaseAlteration,
    NowPaymentsAlteration,
    alter_coinbase,
    alter_nowpayments,
)
from bwai_sandbox.control.models import DepositBody, FaultBody, PayBody
from bwai_sandbox.dependencies import SandboxDep
from bwai_sandbox.errors import DeliveryNotFound
from bwai_sandbox.models import Provider
from bwai_sandbox.nowpayments import errors as nowpayments_errors
from bwai_sandbox.nowpayments.payloads import invoice_response, payment_status
from bwai_sandbox.responses import DecimalStringResponse

router = APIRouter(prefix="/sandbox/v1", default_response_class=DecimalStringResponse)


@router.post("/checkouts/{provider}/{checkout_id}/pay")
async def pay(
    sandbox: SandboxDep, provider: Provider, checkout_id: str, body: PayBody
) -> dict[str, Any]:
    """Play the outcome; return the final status and the deliveries in sending order.

    The checkout's stored state is final at once; the webhooks follow in the background.
    """
    result = await sandbox.pay(provider, checkout_id, body.to_request(), body.delivery)
    return result.to_json()


@router.post("/checkouts/nowpayments/{invoice_id}/deposit")
async def deposit(sandbox: SandboxDep, invoice_id: str, body: DepositBody) -> dict[str, Any]:
    """Make a repeated deposit: a new `payment_id` whose `parent_payment_id` is the first one."""
    result = await sandbox.deposit(invoice_id, body.decimal_amount(), body.delivery)
    return result.to_json()


@router.get("/checkouts/{provider}/{checkout_id}")
async def show_checkout(
    sandbox: SandboxDep, provider: Provider, checkout_id: str
) -> dict[str, Any]:
    base_url = sandbox.settings.base_url
    if provider is Provider.COINBASE:
        return {"charge": charge_data(sandbox.find_charge(checkout_id), base_url)}
    invoice = sandbox.find_invoice(checkout_id)
    payments = sandbox.state.nowpayments.payments_of(invoice)
    return {
        "invoice": invoice_response(invoice, base_url),
        "payments": [payment_status(p) for p in payments],
    }


@router.get("/requests")
async def list_requests(
    sandbox: SandboxDep,
    provider: Provider | None = None,
    method: str | None = None,
    path: str | None = None,
) -> dict[str, Any]:
    """List provider API requests, filtered by provider, method and exact path."""
    records = [
        r.to_json()
        for r in sandbox.state.requests
        if (provider is None or r.provider is provider)
        and (method is None or r.method == method.upper())
        and (path is None or r.path == path)
    ]
    return {"data": records}


@router.post("/faults", status_code=201)
async def add_fault(sandbox: SandboxDep, body: FaultBody) -> dict[str, Any]:
    """Make the next `count` create requests to the provider fail in the given mode."""
    async with sandbox.state.lock:
        fault = sandbox.state.add_fault(body.provider, body.mode, body.count, body.hang_seconds)
    return fault.to_json()


@router.get("/faults")
async def list_faults(sandbox: SandboxDep) -> dict[str, Any]:
    return {"data": [f.to_json() for f in sandbox.state.faults]}


@router.get("/deliveries")
async def list_deliveries(
    sandbox: SandboxDep,
    provider: Provider | None = None,
    checkout_id: str | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    """List webhooks in the order they were planned, with every attempt and its status code."""
    deliveries = [
        d.to_json()
        for d in sandbox.state.deliveries.values()
        if (provider is None or d.provider is provider)
        and (checkout_id is None or d.checkout_id == checkout_id)
        and (state is None or d.state == state)
    ]
    return {"data": deliveries}


@router.get("/deliveries/{delivery_id}")
async def show_delivery(sandbox: SandboxDep, delivery_id: str) -> dict[str, Any]:
    delivery = sandbox.state.deliveries.get(delivery_id)
    if delivery is None:
        raise DeliveryNotFound(f"delivery {delivery_id} not found")
    return delivery.to_json()


@router.post("/deliveries/{delivery_id}/resend", status_code=202)
async def resend_delivery(sandbox: SandboxDep, delivery_id: str) -> dict[str, Any]:
    """Send a delivery again in the background, as a dashboard's resend button does."""
    return sandbox.resend(delivery_id).to_json()


@router.post("/records/nowpayments/{payment_id}")
async def alter_nowpayments_payment(
    sandbox: SandboxDep, payment_id: int, body: NowPaymentsAlteration
) -> dict[str, Any]:
    """Change a payment's status or amounts without an IPN; return it as the API shows it."""
    async with sandbox.state.lock:
        payment = sandbox.state.nowpayments.payments.get(payment_id)
        if payment is None:
            raise nowpayments_errors.not_found(f"Payment {payment_id} not found")
        alter_nowpayments(payment, body, sandbox.clock.now())
    return payment_status(payment)


@router.post("/records/coinbase/{charge_id}")
async def alter_coinbase_charge(
    sandbox: SandboxDep, charge_id: str, body: CoinbaseAlteration
) -> dict[str, Any]:
    """Append a timeline status or change the paid amount without a webhook."""
    async with sandbox.state.lock:
        charge = sandbox.find_charge(charge_id)
        alter_coinbase(charge, body, sandbox.clock.now())
    return {"charge": charge_data(charge, sandbox.settings.base_url)}


@router.post("/reset", status_code=204)
async def reset(sandbox: SandboxDep) -> None:
    await sandbox.reset()
