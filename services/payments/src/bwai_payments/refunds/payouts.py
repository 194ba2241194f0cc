"""NOWPayments payouts, the only way to send a NOWPayments customer's money back.

NOWPayments has no refund API. A payout needs the API key and a Bearer token from `POST /auth`
(the account's email and password), and then a 2FA code at `POST /payout/{batch_id}/verify`;
an unverified payout is rejected by NOWPayments after an hour.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from bwai_core import jsonutil

from bwai_payments.errors import ProviderResponseInvalid, ProviderUnavailable
from bwai_payments.providers.base import (
    AmbiguousFailure,
    parse_json_object,
    raise_rejected,
    send,
)

PROVIDER = "nowpayments"


@dataclass(frozen=True, slots=True)
class PayoutAccess:
    base_url: str
    api_key: str
    email: str
    password: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    refund_id: str
    address: str
    currency: str
    amount: Decimal
    ipn_callback_url: str
    description: str


@dataclass(frozen=True, slots=True)
class CreatedPayout:
    batch_id: str
    withdrawal_id: str
    status: str


class PayoutOutcomeUnknown(ProviderUnavailable):
    """The payout request may have reached NOWPayments; whether a payout exists is unknown."""

    code = "payout-outcome-unknown"
    title = "Payout outcome unknown"


class PayoutClient:
    """One sequence of payout calls; fetches its Bearer token on first use."""

    def __init__(self, client: httpx.AsyncClient, access: PayoutAccess) -> None:
        self._client = client
        self._access = access
        self._token: str | None = None

    async def create(self, request: PayoutRequest) -> CreatedPayout:
        """Request a one-withdrawal payout; raise ProviderRejected, ProviderUnavailable or
        PayoutOutcomeUnknown when the request may have created one."""
        withdrawal = {
            "address": request.address,
            "currency": request.currency,
            "amount": request.amount,
            "ipn_callback_url": request.ipn_callback_url,
            "payout_description": request.description,
            "unique_external_id": request.refund_id,
        }
        body = {"ipn_callback_url": request.ipn_callback_url, "withdrawals": [withdrawal]}
        answer = await self._call("POST", "/payout", body)
        return _created(answer)

    async def verify(self, batch_id: str, code: str) -> None:
        """Send the 2FA code for a payout batch; raise ProviderRejected for a wrong code."""
        await self._call("POST", f"/payout/{batch_id}/verify", {"verification_code": code})

    async def _call(self, method: str, path: str, body: dict[str, Any]) -> Any:
        headers = {
            "x-api-key": self._access.api_key,
            "Authorization": f"Bearer {await self._bearer()}",
            "Content-Type": "application/json",
        }
        url = self._access.base_url.rstrip("/") + path
        content = jsonutil.dumps(body)
        try:
            response = await send(
                self._client,
                PROVIDER,
                lambda: self._client.request(
                    method, url, content=content, headers=headers, timeout=self._access.timeout_s
                ),
            )
        except AmbiguousFailure as exc:
            raise PayoutOutcomeUnknown(f"NOWPayments {method} {path}: {exc}") from exc
        return _answer(response)

    async def _bearer(self) -> str:
        if self._token is not None:
            return self._token
        url = self._access.base_url.rstrip("/") + "/auth"
        credentials = {"email": self._access.email, "password": self._access.password}
        try:
            response = await send(
                self._client,
                PROVIDER,
                lambda: self._client.post(url, json=credentials, timeout=self._access.timeout_s),
            )
        except AmbiguousFailure as exc:
            raise ProviderUnavailable(f"NOWPayments POST /auth failed: {exc}") from exc
        token = _answer(response).get("token")
        if not isinstance(token, str) or not token:
            raise ProviderResponseInvalid("NOWPayments POST /auth returned no token")
        self._token = token
        return token


def _answer(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        message = None
        with contextlib.suppress(ProviderResponseInvalid):
            message = parse_json_object(response, PROVIDER).get("message")
        raise_rejected(response, PROVIDER, str(message) if message else None)
    if not response.content:
        return {}
    try:
        return jsonutil.loads_decimal(response.content)
    except ValueError as exc:
        raise ProviderResponseInvalid("NOWPayments sent a body that is not JSON") from exc


def _created(answer: Any) -> CreatedPayout:
    """Read the batch and its one withdrawal from a create-payout answer."""
    if not isinstance(answer, dict):
        raise ProviderResponseInvalid("NOWPayments POST /payout returned no object")
    withdrawals = answer.get("withdrawals")
    if not isinstance(withdrawals, list) or len(withdrawals) != 1:
        raise ProviderResponseInvalid("NOWPayments POST /payout returned no single withdrawal")
    withdrawal = withdrawals[0]
    batch_id = answer.get("id") or withdrawal.get("batch_withdrawal_id")
    if batch_id is None or withdrawal.get("id") is None:
        raise ProviderResponseInvalid("NOWPayments POST /payout returned no payout ids")
    return CreatedPayout(str(batch_id), str(withdrawal["id"]), str(withdrawal.get("status", "")))
