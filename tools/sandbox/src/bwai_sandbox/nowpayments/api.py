"""The NOWPayments API subset, mounted at `/nowpayments/v1` to match `https://api.nowpayments.io/v1`.

Real routes: `POST /invoice`, `GET /payment/{payment_id}`, `POST /auth`, `GET /payment/`,
`GET /status`. `GET /invoice` and `GET /invoice/{id}` exist only in the sandbox (see their
docstrings).
"""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from bwai_sandbox.dependencies import SandboxDep, read_json
from bwai_sandbox.models import Provider
from bwai_sandbox.nowpayments import errors
from bwai_sandbox.nowpayments import service as nowpayments_service
from bwai_sandbox.nowpayments.models import Payment
from bwai_sandbox.nowpayments.payloads import invoice_response, payment_status
from bwai_sandbox.responses import JsNumberResponse

router = APIRouter(prefix="/nowpayments/v1", default_response_class=JsNumberResponse)

_SORT_FIELDS = (
    "payment_id",
    "payment_status",
    "pay_address",
    "price_amount",
    "price_currency",
    "pay_amount",
    "actually_paid",
    "pay_currency",
    "order_id",
    "order_description",
    "purchase_id",
    "outcome_amount",
    "outcome_currency",
    "created_at",
    "updated_at",
)


async def require_api_key(request: Request, sandbox: SandboxDep) -> None:
    supplied = request.headers.get("x-api-key", "")
    expected = sandbox.settings.nowpayments_api_key
    if not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise errors.invalid_api_key()


async def require_token(request: Request, sandbox: SandboxDep) -> None:
    """Accept only a Bearer token from `POST /auth` that has not expired."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise errors.auth_required()
    expires_at = sandbox.state.nowpayments.tokens.get(token.strip())
    if expires_at is None or expires_at <= sandbox.clock.now():
        # NOTE: the code for an unknown or expired token is a guess; no capture shows one.
        raise errors.NowPaymentsError(401, "INVALID_TOKEN", "Token is invalid or expired")


ApiKey = Depends(require_api_key)
BearerToken = Depends(require_token)


@router.get("/status")
async def status() -> dict[str, str]:
    return {"message": "OK"}


@router.post("/auth")
async def authenticate(request: Request, sandbox: SandboxDep) -> dict[str, str]:
    """Exchange the account's email and password for a Bearer token (5 minutes by default)."""
    body = await _json_object(request)
    settings = sandbox.settings
    email_ok = hmac.compare_digest(str(body.get("email", "")), settings.nowpayments_email)
    password_ok = hmac.compare_digest(str(body.get("password", "")), settings.nowpayments_password)
    if not (email_ok and password_ok):
        # NOTE: NOWPayments does not document its response to wrong credentials; this is a guess.
        raise errors.NowPaymentsError(401, "INVALID_CREDENTIALS", "Invalid email or password")

    token = secrets.token_urlsafe(32)
    ttl = timedelta(seconds=settings.nowpayments_token_ttl_seconds)
    sandbox.state.nowpayments.tokens[token] = sandbox.clock.now() + ttl
    return {"token": token}


@router.post("/invoice", status_code=201, dependencies=[ApiKey])
async def create_invoice(request: Request, sandbox: SandboxDep) -> dict[str, Any]:
    """Create an invoice whose `invoice_url` is the sandbox checkout page."""
    fault = sandbox.take_create_fault(Provider.NOWPAYMENTS)
    body = await _json_object(request)
    async with sandbox.state.lock:
        invoice = nowpayments_service.create_invoice(sandbox.state.nowpayments, body, sandbox.clock)
    await sandbox.finish_create(Provider.NOWPAYMENTS, fault)
    return invoice_response(invoice, sandbox.settings.base_url)


@router.get("/invoice", dependencies=[ApiKey])
async def find_invoices(
    sandbox: SandboxDep, order_id: Annotated[str, Query(min_length=1)]
) -> dict[str, Any]:
    """List the invoices created with this `order_id`, oldest first: `{"data": [invoice]}`.

    Sandbox only: the real NOWPayments API has no way to find an invoice by order id. It lets
    an adapter recover after a create whose response it never received.
    """
    invoices = sandbox.state.nowpayments.invoices_for_order(order_id)
    base_url = sandbox.settings.base_url
    return {"data": [invoice_response(i, base_url) for i in invoices]}


@router.get("/invoice/{invoice_id}", dependencies=[ApiKey])
async def get_invoice(sandbox: SandboxDep, invoice_id: str) -> dict[str, Any]:
    """Return one invoice as the create response shows it. Sandbox only, like `GET /invoice`."""
    invoice = sandbox.state.nowpayments.invoices.get(invoice_id)
    if invoice is None:
        raise errors.not_found(f"Invoice {invoice_id} not found")
    return invoice_response(invoice, sandbox.settings.base_url)


@router.get("/payment/{payment_id}", dependencies=[ApiKey])
async def get_payment(sandbox: SandboxDep, payment_id: str) -> dict[str, Any]:
    """Return a payment's current state; `payment_id` is a number in this body."""
    payments = sandbox.state.nowpayments.payments
    payment = payments.get(int(payment_id)) if payment_id.isdigit() else None
    if payment is None:
        raise errors.not_found(f"Payment {payment_id} not found")
    return payment_status(payment)


@router.get("/payment/", dependencies=[ApiKey, BearerToken])
@router.get("/payment", dependencies=[ApiKey, BearerToken], include_in_schema=False)
async def list_payments(
    sandbox: SandboxDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
    page: Annotated[int, Query(ge=0)] = 0,
    sort_by: Annotated[str, Query(alias="sortBy")] = "created_at",
    order_by: Annotated[Literal["asc", "desc"], Query(alias="orderBy")] = "asc",
    date_from: Annotated[datetime | None, Query(alias="dateFrom")] = None,
    date_to: Annotated[datetime | None, Query(alias="dateTo")] = None,
    invoice_id: Annotated[int | None, Query(alias="invoiceId")] = None,
    order_id: Annotated[str | None, Query(alias="orderId")] = None,
) -> dict[str, Any]:
    """List payments a page at a time: `{"data", "limit", "page", "pagesCount", "total"}`.

    Real parameters: `limit` (1-500), `page` (from 0), `sortBy`, `orderBy` (asc or desc),
    `dateFrom` and `dateTo` (on `created_at`), `invoiceId`. Sandbox only: `orderId` keeps the
    payments made for one of our order ids. Needs `x-api-key` and a Bearer token.
    """
    if sort_by not in _SORT_FIELDS:
        raise errors.invalid_params(f"sortBy must be one of {', '.join(_SORT_FIELDS)}")
    payments = [
        p
        for p in sandbox.state.nowpayments.payments.values()
        if _matches(p, date_from, date_to, invoice_id, order_id)
    ]
    payments.sort(key=lambda p: _sort_key(p, sort_by), reverse=order_by == "desc")

    start = page * limit
    return {
        "data": [payment_status(p) for p in payments[start : start + limit]],
        "limit": limit,
        "page": page,
        "pagesCount": math.ceil(len(payments) / limit),
        "total": len(payments),
    }


def _matches(
    payment: Payment,
    date_from: datetime | None,
    date_to: datetime | None,
    invoice_id: int | None,
    order_id: str | None,
) -> bool:
    if invoice_id is not None and payment.invoice_id != invoice_id:
        return False
    if order_id is not None and payment.order_id != order_id:
        return False
    if date_from is not None and payment.created_at < _aware(date_from):
        return False
    return date_to is None or payment.created_at <= _aware(date_to)


def _sort_key(payment: Payment, field: str) -> tuple[bool, Any]:
    value = payment_status(payment)[field]
    # None sorts first; other values of one field share a type, so they compare.
    return (value is not None, value if value is not None else 0)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await read_json(request)
    except ValueError:
        raise errors.invalid_params("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.invalid_params("request body must be a JSON object")
    return body
