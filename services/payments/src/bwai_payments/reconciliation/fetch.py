"""Read a UTC day's settlement records through the providers' list APIs.

Both list APIs filter (NOWPayments) or order (Coinbase) by creation time, while a record belongs
to the day of its last status change. So payments created from `lookback_days` before the day up
to its end are read, and only those whose last status change falls in the day are kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import structlog

from bwai_payments.errors import (
    ProviderNotConfigured,
    ProviderResponseInvalid,
    ProviderUnavailable,
)
from bwai_payments.providers.base import (
    AmbiguousFailure,
    parse_json_object,
    raise_rejected,
    send,
    to_datetime,
    to_decimal,
)
from bwai_payments.reconciliation.models import DayWindow, ProviderRecord

log = structlog.get_logger()

NOWPAYMENTS_PAGE_SIZE = 500  # the maximum `limit` NOWPayments accepts
COINBASE_PAGE_SIZE = 100  # the maximum `limit` Coinbase Commerce accepts
COINBASE_API_VERSION = "2018-03-22"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Called with the number of records read so far, after each page.
Progress = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ProviderAccess:
    """Where and how to call one provider's API."""

    base_url: str
    api_key: str | None
    timeout_s: float
    email: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    records: list[ProviderRecord]
    # Records that carry no reference of ours: another integration on the same account.
    foreign: int


async def fetch_nowpayments(
    client: httpx.AsyncClient,
    access: ProviderAccess,
    window: DayWindow,
    *,
    lookback_days: int,
    progress: Progress,
) -> Fetched:
    """Read the day's NOWPayments payments with GET /payment/ (x-api-key and a Bearer JWT)."""
    if not access.api_key or not access.email or not access.password:
        raise ProviderNotConfigured(
            "NOWPayments reconciliation needs BWAI_NOWPAYMENTS_API_KEY, BWAI_NOWPAYMENTS_EMAIL "
            "and BWAI_NOWPAYMENTS_PASSWORD"
        )
    base = access.base_url.rstrip("/")
    headers = {"x-api-key": access.api_key}
    # NOWPayments tokens live 5 minutes, so one is fetched per run; a run longer than that
    # fails with a 401 and is retried by the next request.
    headers["Authorization"] = f"Bearer {await _nowpayments_token(client, access)}"
    params = {
        "limit": str(NOWPAYMENTS_PAGE_SIZE),
        "sortBy": "created_at",
        "orderBy": "asc",
        "dateFrom": _iso(window.start - timedelta(days=lookback_days)),
        "dateTo": _iso(window.end),
    }
    collector = _Collector(window)
    page, pages = 0, 1
    while page < pages:
        body = await _get(
            client,
            "nowpayments",
            f"{base}/payment/",
            headers,
            {**params, "page": str(page)},
            access.timeout_s,
        )
        data = body.get("data")
        if not isinstance(data, list):
            raise ProviderResponseInvalid("NOWPayments payment list has no `data` list")
        for item in data:
            collector.add(_nowpayments_record(item))
        pages = _int(body.get("pagesCount"), 0)
        page += 1
        await progress(collector.seen)
    return collector.result()


async def fetch_coinbase(
    client: httpx.AsyncClient,
    access: ProviderAccess,
    window: DayWindow,
    *,
    lookback_days: int,
    progress: Progress,
) -> Fetched:
    """Read the day's Coinbase Commerce charges with GET /charges, newest first.

    Paging stops at the first page whose charges were all created before the lookback start.
    """
    if not access.api_key:
        raise ProviderNotConfigured("Coinbase reconciliation needs BWAI_COINBASE_COMMERCE_API_KEY")
    headers = {"X-CC-Api-Key": access.api_key, "X-CC-Version": COINBASE_API_VERSION}
    oldest = window.start - timedelta(days=lookback_days)
    url: str | None = f"{access.base_url.rstrip('/')}/charges"
    params: dict[str, str] | None = {"order": "desc", "limit": str(COINBASE_PAGE_SIZE)}
    collector = _Collector(window)
    while url is not None:
        body = await _get(client, "coinbase_commerce", url, headers, params, access.timeout_s)
        charges = body.get("data")
        if not isinstance(charges, list):
            raise ProviderResponseInvalid("Coinbase Commerce charge list has no `data` list")
        created = [to_datetime(c.get("created_at")) for c in charges if isinstance(c, dict)]
        for charge in charges:
            collector.add(_coinbase_record(charge))
        await progress(collector.seen)
        if created and all(c is not None and c < oldest for c in created):
            break
        url, params = _next_uri(body), None
    return collector.result()


class _Collector:
    """Keep the records of the day, one per provider payment (the latest), and count foreign."""

    def __init__(self, window: DayWindow) -> None:
        self._window = window
        self._records: dict[str, ProviderRecord] = {}
        self._foreign: set[str] = set()
        self.seen = 0

    def add(self, found: tuple[ProviderRecord, bool] | None) -> None:
        self.seen += 1
        if found is None:
            return
        record, ours = found
        if not self._window.contains(record.updated_at):
            return
        if not ours:
            self._foreign.add(record.provider_payment_id)
            return
        kept = self._records.get(record.provider_payment_id)
        if kept is None or kept.updated_at <= record.updated_at:
            self._records[record.provider_payment_id] = record

    def result(self) -> Fetched:
        return Fetched(list(self._records.values()), len(self._foreign))


async def _nowpayments_token(client: httpx.AsyncClient, access: ProviderAccess) -> str:
    base = access.base_url.rstrip("/")
    try:
        response = await send(
            client,
            "nowpayments",
            lambda: client.post(
                f"{base}/auth",
                json={"email": access.email, "password": access.password},
                timeout=access.timeout_s,
            ),
        )
    except AmbiguousFailure as exc:
        raise _unavailable("nowpayments", exc) from exc
    body = parse_json_object(response, "nowpayments")
    if response.status_code >= 400:
        raise_rejected(response, "nowpayments", _message(body))
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise ProviderResponseInvalid("NOWPayments POST /auth returned no token")
    return token


async def _get(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    headers: dict[str, str],
    params: dict[str, str] | None,
    timeout_s: float,
) -> dict[str, Any]:
    # A list request changes nothing at the provider, so every failure is safe to retry later.
    try:
        response = await send(
            client,
            provider,
            lambda: client.get(url, headers=headers, params=params, timeout=timeout_s),
        )
    except AmbiguousFailure as exc:
        raise _unavailable(provider, exc) from exc
    body = parse_json_object(response, provider)
    if response.status_code >= 400:
        raise_rejected(response, provider, _message(body))
    return body


def _nowpayments_record(item: Any) -> tuple[ProviderRecord, bool] | None:
    if not isinstance(item, dict) or item.get("payment_id") is None:
        return None
    updated_at = _timestamp(item.get("updated_at")) or _timestamp(item.get("created_at"))
    status = item.get("payment_status")
    if updated_at is None or not isinstance(status, str):
        return None
    reference = item.get("order_id")
    record = ProviderRecord(
        provider="nowpayments",
        # A number in this body and in IPNs; stored as text everywhere.
        provider_payment_id=str(item["payment_id"]),
        status=status,
        pay_currency=_text(item.get("pay_currency")),
        actually_paid=to_decimal(item.get("actually_paid")),
        outcome_amount=to_decimal(item.get("outcome_amount")),
        outcome_currency=_text(item.get("outcome_currency")),
        updated_at=updated_at,
        merchant_reference=reference if isinstance(reference, str) else None,
    )
    return record, is_our_reference(record.merchant_reference)


def _coinbase_record(charge: Any) -> tuple[ProviderRecord, bool] | None:
    if not isinstance(charge, dict) or not isinstance(charge.get("id"), str):
        return None
    timeline = [e for e in charge.get("timeline") or [] if isinstance(e, dict)]
    if not timeline:
        return None
    last = timeline[-1]
    changed_at = _timestamp(last.get("time"))
    if changed_at is None or not isinstance(last.get("status"), str):
        return None
    currency, paid = _coinbase_paid(charge.get("payments") or [])
    settlement = (charge.get("pricing") or {}).get("settlement") or {}
    metadata = charge.get("metadata") or {}
    reference = metadata.get("order_id") if isinstance(metadata, dict) else None
    record = ProviderRecord(
        provider="coinbase_commerce",
        provider_payment_id=charge["id"],
        status=last["status"],
        pay_currency=currency,
        actually_paid=paid,
        outcome_amount=to_decimal(settlement.get("amount")),
        outcome_currency=_text(settlement.get("currency")),
        updated_at=changed_at,
        merchant_reference=reference if isinstance(reference, str) else None,
    )
    return record, is_our_reference(record.merchant_reference)


def _coinbase_paid(payments: list[Any]) -> tuple[str | None, Decimal]:
    # Summed in the first payment's asset, as the webhook normalisation does.
    currency: str | None = None
    total = Decimal(0)
    for payment in payments:
        crypto = ((payment or {}).get("value") or {}).get("crypto") or {}
        amount, paid_in = to_decimal(crypto.get("amount")), _text(crypto.get("currency"))
        if amount is None or paid_in is None:
            continue
        currency = currency or paid_in
        if paid_in == currency:
            total += amount
    return currency, total


def is_our_reference(reference: str | None) -> bool:
    """Tell whether a provider reference is one we send (a UUID: payment or order id)."""
    if not reference:
        return False
    try:
        UUID(reference)
    except ValueError:
        return False
    return True


def _timestamp(value: Any) -> datetime | None:
    # NOWPayments has sent `updated_at` both as ISO text and as epoch milliseconds.
    if isinstance(value, int) and not isinstance(value, bool):
        return EPOCH + timedelta(milliseconds=value)
    moment = to_datetime(value)
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _next_uri(body: dict[str, Any]) -> str | None:
    pagination = body.get("pagination")
    next_uri = pagination.get("next_uri") if isinstance(pagination, dict) else None
    return next_uri if isinstance(next_uri, str) and next_uri else None


def _message(body: dict[str, Any]) -> str | None:
    message = body.get("message")
    if isinstance(message, str):
        return message
    error = body.get("error")
    text = error.get("message") if isinstance(error, dict) else None
    return text if isinstance(text, str) else None


def _unavailable(provider: str, exc: AmbiguousFailure) -> ProviderUnavailable:
    return ProviderUnavailable(f"{provider} list request failed: {exc}")
