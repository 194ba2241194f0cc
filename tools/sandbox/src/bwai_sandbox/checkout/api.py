"""The hosted checkout page: a person pays in full, partially, too much, or lets it expire.

`GET /checkout/{provider}/{id}` shows the checkout. Its buttons post a form to
`/checkout/{provider}/{id}/pay`, which runs the same action as the control API's `pay`.
The result page links back to the merchant's success or cancel URL.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from bwai_sandbox.checkout import views
from bwai_sandbox.dependencies import SandboxDep
from bwai_sandbox.errors import ActionInvalid, SandboxError
from bwai_sandbox.models import DeliveryOptions, Outcome, PayRequest, Provider
from bwai_sandbox.sandbox import PayResult, Sandbox

router = APIRouter(prefix="/checkout", default_response_class=HTMLResponse)

_templates = Environment(
    loader=PackageLoader("bwai_sandbox", "templates"),
    autoescape=select_autoescape(["html"]),
)


@router.get("/{provider}/{checkout_id}")
async def show_checkout(sandbox: SandboxDep, provider: Provider, checkout_id: str) -> HTMLResponse:
    return _render("checkout.html", _page(sandbox, provider, checkout_id))


@router.post("/{provider}/{checkout_id}/pay")
async def pay_from_form(
    request: Request, sandbox: SandboxDep, provider: Provider, checkout_id: str
) -> HTMLResponse:
    form = parse_qs((await request.body()).decode("utf-8"))
    try:
        pay_request = _pay_request(form)
        result = await sandbox.pay(provider, checkout_id, pay_request, DeliveryOptions())
    except SandboxError as exc:
        page = _page(sandbox, provider, checkout_id) | {"error": exc.detail}
        return _render("checkout.html", page, status_code=exc.status_code)
    return _render("result.html", _result_page(sandbox, result))


def _page(sandbox: Sandbox, provider: Provider, checkout_id: str) -> dict[str, Any]:
    if provider is Provider.NOWPAYMENTS:
        invoice = sandbox.find_invoice(checkout_id)
        payments = sandbox.state.nowpayments.payments_of(invoice)
        page = views.nowpayments_page(invoice, payments)
    else:
        page = views.coinbase_page(sandbox.find_charge(checkout_id))
    return page | {"action": f"/checkout/{provider.value}/{checkout_id}/pay", "error": None}


def _result_page(sandbox: Sandbox, result: PayResult) -> dict[str, Any]:
    if result.provider is Provider.NOWPAYMENTS:
        invoice = sandbox.find_invoice(result.checkout_id)
        label, return_url = "NOWPayments", views.nowpayments_return_url(invoice, result.status)
    else:
        charge = sandbox.find_charge(result.checkout_id)
        label, return_url = "Coinbase Commerce", views.coinbase_return_url(charge)
    return {
        "provider_label": label,
        "title": "Payment simulated",
        "status": result.status,
        "webhooks": sum(1 for d in result.deliveries if d.state != "skipped"),
        "return_url": return_url,
    }


def _pay_request(form: dict[str, list[str]]) -> PayRequest:
    outcome_text = _field(form, "outcome") or ""
    try:
        outcome = Outcome(outcome_text)
    except ValueError:
        raise ActionInvalid(f"unknown outcome {outcome_text!r}") from None
    amount_text = _field(form, "amount")
    amount = None
    if amount_text:
        try:
            amount = Decimal(amount_text)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise ActionInvalid(f"amount {amount_text!r} is not a decimal number")
    return PayRequest(outcome, amount, _field(form, "pay_currency"))


def _field(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0].strip() if values else None


def _render(template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    html = _templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)
