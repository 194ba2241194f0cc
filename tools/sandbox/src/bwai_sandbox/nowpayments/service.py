"""NOWPayments behaviour: creating invoices and playing a payment through its statuses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from bwai_core.clock import Clock

from bwai_sandbox import ids, money
from bwai_sandbox.errors import ActionInvalid, CheckoutStateConflict
from bwai_sandbox.models import Outcome, PayRequest
from bwai_sandbox.nowpayments.errors import invalid_params
from bwai_sandbox.nowpayments.models import Fee, Invoice, Payment
from bwai_sandbox.nowpayments.payloads import ipn
from bwai_sandbox.nowpayments.store import NowPaymentsStore

# Status sequences per outcome. An overpayment also ends `finished`: NOWPayments keeps the
# surplus and reports it in `actually_paid`.
_STEPS: dict[Outcome, tuple[str, ...]] = {
    Outcome.FULL: ("waiting", "confirming", "confirmed", "sending", "finished"),
    Outcome.OVER: ("waiting", "confirming", "confirmed", "sending", "finished"),
    Outcome.PARTIAL: ("waiting", "confirming", "partially_paid"),
    Outcome.EXPIRE: ("waiting", "expired"),
    Outcome.FAIL: ("waiting", "confirming", "failed"),
}
# A repeated deposit is seen on chain at once, so it starts at `confirming`.
_DEPOSIT_FULL = ("confirming", "confirmed", "sending", "finished")
_DEPOSIT_SHORT = ("confirming", "partially_paid")
# After these the customer may open the invoice again and start a new payment.
_REOPENING_STATUSES = frozenset({"expired", "failed"})
# Made-up fee rates, as fractions of the amount paid.
_DEPOSIT_FEE = Decimal("0.0025")
_SERVICE_FEE = Decimal("0.005")
_DEFAULT_ASSET = "btc"

IpnSnapshot = dict[str, Any]


def create_invoice(store: NowPaymentsStore, body: Any, clock: Clock) -> Invoice:
    """Validate a `POST /v1/invoice` body and store the invoice."""
    if not isinstance(body, dict):
        raise invalid_params("request body must be a JSON object")
    now = clock.now()
    invoice = Invoice(
        id=str(ids.ten_digit_id(store.taken_ids())),
        token_id=str(ids.ten_digit_id(set())),
        price_amount=_price_amount(body.get("price_amount")),
        price_currency=_fiat(body.get("price_currency")),
        pay_currency=_optional_asset(body.get("pay_currency")),
        order_id=_optional_text(body, "order_id"),
        order_description=_optional_text(body, "order_description"),
        ipn_callback_url=_optional_url(body, "ipn_callback_url"),
        success_url=_optional_url(body, "success_url"),
        cancel_url=_optional_url(body, "cancel_url"),
        partially_paid_url=_optional_url(body, "partially_paid_url"),
        is_fixed_rate=_optional_bool(body, "is_fixed_rate"),
        is_fee_paid_by_user=_optional_bool(body, "is_fee_paid_by_user"),
        created_at=now,
        updated_at=now,
    )
    store.invoices[invoice.id] = invoice
    return invoice


def pay(
    store: NowPaymentsStore, invoice: Invoice, request: PayRequest, clock: Clock
) -> tuple[Payment, list[IpnSnapshot]]:
    """Start a payment on the invoice and play it to the outcome's final status.

    Returns the payment in its final state and one IPN body per status, in order.
    """
    if request.outcome is Outcome.LATE:
        raise ActionInvalid(
            "outcome 'late' is a Coinbase case; for NOWPayments let the payment expire, "
            "then post a repeated deposit"
        )
    _check_reopenable(store, invoice)
    asset = _pay_asset(request.pay_currency or invoice.pay_currency or _DEFAULT_ASSET)
    payment = _new_payment(store, invoice, asset, clock)
    paid = _paid_amount(request, payment)
    return payment, _play(payment, _STEPS[request.outcome], paid, clock)


def repeat_deposit(
    store: NowPaymentsStore, invoice: Invoice, amount: Decimal | None, clock: Clock
) -> tuple[Payment, list[IpnSnapshot]]:
    """Record a second deposit to the invoice's address as a new payment with a parent.

    The deposit ends `finished` when it covers the parent's `pay_amount`, else
    `partially_paid`.
    """
    if not invoice.payment_ids:
        raise CheckoutStateConflict(f"invoice {invoice.id} has no payment to deposit into")
    parent = store.payments[invoice.payment_ids[0]]
    paid = amount if amount is not None else parent.pay_amount
    if paid <= 0:
        raise ActionInvalid("amount must be greater than zero")

    payment = _new_payment(store, invoice, parent.pay_currency, clock, parent=parent)
    steps = _DEPOSIT_FULL if paid >= payment.pay_amount else _DEPOSIT_SHORT
    return payment, _play(payment, steps, paid, clock)


def _play(
    payment: Payment, steps: tuple[str, ...], paid: Decimal, clock: Clock
) -> list[IpnSnapshot]:
    start = clock.now()
    snapshots = []
    for index, status in enumerate(steps):
        payment.status = status
        # One second apart, so `updated_at` grows along the sequence.
        payment.updated_at = start + timedelta(seconds=index)
        if status not in ("waiting", "expired"):
            _record_deposit(payment, paid)
        snapshots.append(ipn(payment))
    return snapshots


def _new_payment(
    store: NowPaymentsStore,
    invoice: Invoice,
    asset: str,
    clock: Clock,
    *,
    parent: Payment | None = None,
) -> Payment:
    now = clock.now()
    pay_amount = money.to_asset(invoice.price_amount, invoice.price_currency, asset)
    payment = Payment(
        payment_id=ids.ten_digit_id(store.taken_ids()),
        invoice_id=int(invoice.id),
        purchase_id=parent.purchase_id if parent else str(ids.ten_digit_id(set())),
        status="waiting",
        pay_address=parent.pay_address if parent else _address(asset),
        pay_currency=asset,
        pay_amount=pay_amount,
        price_amount=invoice.price_amount,
        price_currency=invoice.price_currency,
        created_at=now,
        updated_at=now,
        fee=Fee(currency=asset),
        # Before any deposit the outcome is an estimate from the expected amount.
        outcome_amount=pay_amount - _fees(pay_amount, asset)[2],
        order_id=invoice.order_id,
        order_description=invoice.order_description,
        parent_payment_id=parent.payment_id if parent else None,
    )
    store.payments[payment.payment_id] = payment
    invoice.payment_ids.append(payment.payment_id)
    return payment


def _record_deposit(payment: Payment, paid: Decimal) -> None:
    deposit_fee, service_fee, total = _fees(paid, payment.pay_currency)
    payment.actually_paid = paid
    payment.actually_paid_at_fiat = money.to_fiat(
        paid, payment.pay_currency, payment.price_currency
    )
    payment.fee = Fee(payment.pay_currency, deposit_fee, Decimal(0), service_fee)
    payment.outcome_amount = paid - total


def _fees(amount: Decimal, asset: str) -> tuple[Decimal, Decimal, Decimal]:
    deposit_fee = money.quantize_asset(amount * _DEPOSIT_FEE, asset)
    service_fee = money.quantize_asset(amount * _SERVICE_FEE, asset)
    return deposit_fee, service_fee, deposit_fee + service_fee


def _paid_amount(request: PayRequest, payment: Payment) -> Decimal:
    """Return what the customer sends, checking a given amount against the outcome."""
    expected = payment.pay_amount
    asset = payment.pay_currency
    amount = request.amount
    if amount is not None and amount <= 0:
        raise ActionInvalid("amount must be greater than zero")
    match request.outcome:
        case Outcome.FULL:
            if amount is not None and amount != expected:
                raise ActionInvalid(f"a full payment is exactly {expected} {asset}")
            return expected
        case Outcome.PARTIAL:
            if amount is not None and amount >= expected:
                raise ActionInvalid(f"a partial payment is less than {expected} {asset}")
            return amount if amount is not None else money.scale(expected, "0.8", asset)
        case Outcome.OVER:
            if amount is not None and amount <= expected:
                raise ActionInvalid(f"an overpayment is more than {expected} {asset}")
            return amount if amount is not None else money.scale(expected, "1.1", asset)
        case Outcome.FAIL:
            return amount if amount is not None else expected
        case _:
            return Decimal(0)


def _check_reopenable(store: NowPaymentsStore, invoice: Invoice) -> None:
    for payment in store.payments_of(invoice):
        if payment.parent_payment_id is None and payment.status not in _REOPENING_STATUSES:
            raise CheckoutStateConflict(
                f"invoice {invoice.id} already has payment {payment.payment_id} in status "
                f"{payment.status}; post a repeated deposit instead"
            )


def _address(asset: str) -> str:
    if asset in ("eth", "usdterc20", "usdc"):
        return "0x" + ids.hex_token(40)
    if asset in ("usdttrc20", "trx"):
        return "T" + ids.hex_token(33)
    return "3" + ids.hex_token(33)


def _pay_asset(code: str) -> str:
    if not money.is_asset(code):
        supported = ", ".join(money.SUPPORTED_ASSETS)
        raise ActionInvalid(f"pay currency {code!r} is not supported; use one of {supported}")
    return code.lower()


def _price_amount(value: Any) -> Decimal:
    if value is None:
        raise invalid_params("price_amount is required")
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise invalid_params("price_amount must be a number")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise invalid_params(f"price_amount {value!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise invalid_params("price_amount must be greater than zero")
    return amount


def _fiat(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_params("price_currency is required")
    if not money.is_fiat(value):
        supported = ", ".join(money.SUPPORTED_FIAT)
        raise invalid_params(f"price_currency {value!r} is not supported; use one of {supported}")
    return value.lower()


def _optional_asset(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not money.is_asset(value):
        supported = ", ".join(money.SUPPORTED_ASSETS)
        raise invalid_params(f"pay_currency {value!r} is not supported; use one of {supported}")
    return value.lower()


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_params(f"{name} must be a string")
    return value


def _optional_url(body: dict[str, Any], name: str) -> str | None:
    value = _optional_text(body, name)
    if value is not None and urlsplit(value).scheme not in ("http", "https"):
        raise invalid_params(f"{name} must be an http or https URL")
    return value


def _optional_bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise invalid_params(f"{name} must be a boolean")
    return value
