"""Coinbase Commerce behaviour: creating charges and playing a payment through its events.

The events follow the legacy (2018-03-22) charge timeline, which still has under-, over- and
late payments; onchain accounts no longer produce those cases.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from bwai_core.clock import Clock

from bwai_sandbox import ids, money
from bwai_sandbox.coinbase import errors
from bwai_sandbox.coinbase.models import NETWORKS, Charge
from bwai_sandbox.coinbase.payloads import amount_text
from bwai_sandbox.coinbase.store import CoinbaseStore
from bwai_sandbox.errors import ActionInvalid, CheckoutStateConflict
from bwai_sandbox.models import Outcome, PayRequest
from bwai_sandbox.timefmt import iso_seconds

# Coinbase's legacy payment status page gives charges 60 minutes before they expire.
CHARGE_LIFETIME = timedelta(hours=1)
_DEFAULT_NETWORK = "bitcoin"
# Currency codes and asset names a caller may use to pick a network.
_NETWORK_ALIASES = {
    **{network: network for network in NETWORKS},
    **{asset: network for network, (asset, _) in NETWORKS.items()},
}

# Changes a charge to the state of the next webhook.
Action = Callable[[], None]


def create_charge(store: CoinbaseStore, body: Any, clock: Clock) -> Charge:
    """Validate a `POST /charges` body and store the charge with a NEW timeline entry."""
    if not isinstance(body, dict):
        raise errors.invalid_request("request body must be a JSON object")
    pricing_type = _pricing_type(body.get("pricing_type"))
    amount, currency = _local_price(body.get("local_price"), pricing_type)
    now = clock.now()
    charge = Charge(
        id=str(uuid.uuid4()),
        code=ids.charge_code(store.codes),
        name=_required_text(body, "name"),
        description=_optional_text(body, "description"),
        pricing_type=pricing_type,
        local_amount=amount,
        local_currency=currency,
        metadata=_metadata(body.get("metadata")),
        redirect_url=_optional_url(body, "redirect_url"),
        cancel_url=_optional_url(body, "cancel_url"),
        created_at=now,
        expires_at=now + CHARGE_LIFETIME,
        timeline=[{"time": _stamp(now), "status": "NEW"}],
    )
    _quote(charge)
    store.add(charge)
    return charge


def scenario(charge: Charge, request: PayRequest, clock: Clock) -> list[tuple[str, Action]]:
    """Return the outcome's webhooks as (event type, action) pairs, in order.

    Each action changes the charge in place. The caller applies the actions in order and
    snapshots the charge after each one, so every webhook carries the charge as it was then.
    """
    if charge.status != "NEW":
        raise CheckoutStateConflict(f"charge {charge.code} is {charge.status}, not NEW")
    network = _network(request.pay_currency)
    paid = _paid_amount(charge, network, request)
    first = clock.now()
    second = first + timedelta(seconds=1)

    detect = partial(_detect, charge, network, paid, first)
    match request.outcome:
        case Outcome.FULL:
            return [
                ("charge:pending", detect),
                ("charge:confirmed", partial(_complete, charge, second)),
            ]
        case Outcome.OVER:
            return [
                ("charge:pending", detect),
                ("charge:failed", partial(_unresolved, charge, "OVERPAID", second)),
            ]
        case Outcome.PARTIAL:
            settle = partial(_settle_unresolved, charge, network, paid, "UNDERPAID", first)
            return [("charge:failed", settle)]
        case Outcome.EXPIRE:
            return [("charge:failed", partial(_expire, charge, first))]
        case Outcome.FAIL:
            # NOTE: the context of a plain failure is a guess; OTHER is a documented context.
            return [("charge:failed", partial(_unresolved, charge, "OTHER", first))]
        case Outcome.LATE:
            settle = partial(_settle_unresolved, charge, network, paid, "DELAYED", second)
            return [("charge:failed", partial(_expire, charge, first)), ("charge:delayed", settle)]
    raise ActionInvalid(f"outcome {request.outcome!r} is not supported")


def _detect(charge: Charge, network: str, paid: Decimal, at: datetime) -> None:
    payment = _payment(charge, network, paid, at)
    charge.payments.append(payment)
    charge.timeline.append(
        {
            "time": _stamp(at),
            "status": "PENDING",
            "payment": {"network": network, "transaction_id": payment["transaction_id"]},
        }
    )


def _complete(charge: Charge, at: datetime) -> None:
    _confirm_payments(charge)
    charge.timeline.append({"time": _stamp(at), "status": "COMPLETED"})
    charge.confirmed_at = at


def _expire(charge: Charge, at: datetime) -> None:
    charge.timeline.append({"time": _stamp(at), "status": "EXPIRED"})


def _settle_unresolved(
    charge: Charge, network: str, paid: Decimal, context: str, at: datetime
) -> None:
    charge.payments.append(_payment(charge, network, paid, at))
    _unresolved(charge, context, at)


def _unresolved(charge: Charge, context: str, at: datetime) -> None:
    """Append an UNRESOLVED entry naming the last payment, as legacy timelines do."""
    _confirm_payments(charge)
    entry: dict[str, Any] = {"time": _stamp(at), "status": "UNRESOLVED", "context": context}
    if charge.payments:
        last = charge.payments[-1]
        entry["payment"] = {
            "network": last["network"],
            "transaction_id": last["transaction_id"],
            "value": dict(last["value"]["crypto"]),
        }
    charge.timeline.append(entry)


def _payment(charge: Charge, network: str, paid: Decimal, at: datetime) -> dict[str, Any]:
    asset, currency = NETWORKS[network]
    return {
        "network": network,
        "transaction_id": _transaction_id(network),
        "status": "PENDING",
        "detected_at": _stamp(at),
        "value": {
            "local": {"amount": _local_value(charge, network, paid), "currency": _local(charge)},
            "crypto": {
                "amount": amount_text(paid, money.asset_places(asset)),
                "currency": currency,
            },
        },
        # A real pending capture had `confirmations` and a null hash and height.
        "block": {"hash": None, "height": None, "confirmations": 0, "confirmations_required": 1},
    }


def _confirm_payments(charge: Charge) -> None:
    for payment in charge.payments:
        if payment["status"] == "PENDING":
            payment["status"] = "CONFIRMED"
            payment["block"] = {
                "hash": ids.hex_token(64),
                "height": 831_207 + len(charge.payments),
                "confirmations_accumulated": 1,
                "confirmations_required": 1,
            }


def _local(charge: Charge) -> str:
    return charge.local_currency or "USD"


def _local_value(charge: Charge, network: str, paid: Decimal) -> str:
    if charge.local_amount is not None and paid == charge.quotes.get(network):
        return amount_text(charge.local_amount, 2)
    return amount_text(money.to_fiat(paid, NETWORKS[network][0], _local(charge)), 2)


def _paid_amount(charge: Charge, network: str, request: PayRequest) -> Decimal:
    """Return what the customer sends, checking a given amount against the outcome."""
    quote = charge.quotes.get(network)
    amount = request.amount
    outcome = request.outcome
    if amount is not None and amount <= 0:
        raise ActionInvalid("amount must be greater than zero")
    if outcome in (Outcome.EXPIRE, Outcome.FAIL):
        return Decimal(0)
    if quote is None:
        return _no_price_amount(outcome, amount)

    asset = NETWORKS[network][0]
    if outcome is Outcome.PARTIAL:
        if amount is not None and amount >= quote:
            raise ActionInvalid(f"a partial payment is less than {quote} {asset}")
        return amount if amount is not None else money.scale(quote, "0.8", asset)
    if outcome is Outcome.OVER:
        if amount is not None and amount <= quote:
            raise ActionInvalid(f"an overpayment is more than {quote} {asset}")
        return amount if amount is not None else money.scale(quote, "1.1", asset)
    if outcome is Outcome.FULL and amount is not None and amount != quote:
        raise ActionInvalid(f"a full payment is exactly {quote} {asset}")
    return amount if amount is not None else quote


def _no_price_amount(outcome: Outcome, amount: Decimal | None) -> Decimal:
    if outcome in (Outcome.PARTIAL, Outcome.OVER):
        raise ActionInvalid("a no_price charge has no price to fall short of or exceed")
    if amount is None:
        raise ActionInvalid("amount is required to pay a no_price charge")
    return amount


def _network(code: str | None) -> str:
    if code is None:
        return _DEFAULT_NETWORK
    network = _NETWORK_ALIASES.get(code.lower())
    if network is None:
        supported = ", ".join(NETWORKS)
        raise ActionInvalid(f"pay currency {code!r} is not supported; use one of {supported}")
    return network


def _quote(charge: Charge) -> None:
    for network, (asset, _) in NETWORKS.items():
        charge.addresses[network] = _address(network)
        if charge.local_amount is not None and charge.local_currency is not None:
            charge.quotes[network] = money.to_asset(
                charge.local_amount, charge.local_currency, asset
            )


def _address(network: str) -> str:
    if network in ("ethereum", "usdc"):
        return "0x" + ids.hex_token(40)
    if network == "bitcoincash":
        return "bitcoincash:q" + ids.hex_token(41)
    return "3" + ids.hex_token(33)


def _transaction_id(network: str) -> str:
    prefix = "0x" if network in ("ethereum", "usdc") else ""
    return prefix + ids.hex_token(64)


def _stamp(moment: datetime) -> str:
    return iso_seconds(moment)


def _pricing_type(value: Any) -> str:
    if value is None:
        raise errors.param_required("pricing_type")
    if value not in ("fixed_price", "no_price"):
        raise errors.validation_error("pricing_type must be fixed_price or no_price")
    return str(value)


def _local_price(value: Any, pricing_type: str) -> tuple[Decimal | None, str | None]:
    if pricing_type == "no_price":
        return None, None
    if value is None:
        raise errors.param_required("local_price")
    if not isinstance(value, dict):
        raise errors.validation_error("local_price must be an object with amount and currency")
    amount = _decimal(value.get("amount"), "local_price.amount")
    currency = value.get("currency")
    if not isinstance(currency, str) or not money.is_fiat(currency):
        supported = ", ".join(c.upper() for c in money.SUPPORTED_FIAT)
        raise errors.validation_error(f"local_price.currency must be one of {supported}")
    return amount, currency.upper()


def _decimal(value: Any, name: str) -> Decimal:
    if value is None:
        raise errors.param_required(name)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise errors.validation_error(f"{name} must be a decimal string")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise errors.validation_error(f"{name} {value!r} is not a decimal number") from None
    if not amount.is_finite() or amount <= 0:
        raise errors.validation_error(f"{name} must be greater than zero")
    return amount


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.validation_error("metadata must be an object")
    metadata: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, Decimal):
            item = format(item, "f")
        if isinstance(item, dict | list):
            raise errors.validation_error(f"metadata.{key} must be a string or a number")
        metadata[key] = item
    return metadata


def _required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise errors.param_required(name)
    if not isinstance(value, str):
        raise errors.validation_error(f"{name} must be a string")
    return value


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise errors.validation_error(f"{name} must be a string")
    return value


def _optional_url(body: dict[str, Any], name: str) -> str | None:
    value = _optional_text(body, name)
    if value is not None and urlsplit(value).scheme not in ("http", "https"):
        raise errors.validation_error(f"{name} must be an http or https URL")
    return value
