"""Payout routes: the NOWPayments subset under `/nowpayments/v1` and control routes for tests.

Provider routes: `POST /payout` (x-api-key and Bearer token), `POST /payout/{id}/verify` with
the account's 2FA code (`BWAI_SANDBOX_NOWPAYMENTS_PAYOUT_TOTP_SECRET`, ten attempts), and
`GET /payout/{id}`. Control routes under `/sandbox/v1/payouts`: `GET /{id}` and
`POST /{id}/finish` (`{"status": "FINISHED" | "FAILED" | "REJECTED", "error": ...}`), which
ends the payout and sends its status IPN.
"""

from __future__ import annotations

from typing import Any, Literal

from bwai_providers.nowpayments import canonical_json, sign_ipn
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from bwai_sandbox.dependencies import SandboxDep, read_json
from bwai_sandbox.models import DeliveryOptions, Provider
from bwai_sandbox.nowpayments import errors
from bwai_sandbox.nowpayments.api import require_api_key, require_token
from bwai_sandbox.payouts import service
from bwai_sandbox.payouts.models import PayoutBatch, PayoutStore, Withdrawal
from bwai_sandbox.responses import DecimalStringResponse, JsNumberResponse
from bwai_sandbox.sandbox import Sandbox, WebhookMessage

router = APIRouter(prefix="/nowpayments/v1", default_response_class=JsNumberResponse)
control_router = APIRouter(
    prefix="/sandbox/v1/payouts", default_response_class=DecimalStringResponse
)


class FinishBody(BaseModel):
    status: Literal["FINISHED", "FAILED", "REJECTED"] = "FINISHED"
    error: str | None = Field(default=None, max_length=500)


@router.post("/payout", dependencies=[Depends(require_api_key), Depends(require_token)])
async def create_payout(request: Request, sandbox: SandboxDep) -> dict[str, Any]:
    """Create a payout batch; its withdrawals wait in CREATING for the verification code."""
    body = await _json_object(request)
    async with sandbox.state.lock:
        batch = service.create_batch(payout_store(sandbox), body, sandbox.clock)
    return _batch_json(batch)


@router.post(
    "/payout/{batch_id}/verify", dependencies=[Depends(require_api_key), Depends(require_token)]
)
async def verify_payout(request: Request, sandbox: SandboxDep, batch_id: str) -> str:
    """Check the 2FA code; on success the withdrawals move to PROCESSING and IPNs go out."""
    body = await _json_object(request)
    secret = sandbox.settings.payout_totp_secret()
    async with sandbox.state.lock:
        batch = _find(sandbox, batch_id)
        service.verify_batch(batch, body.get("verification_code"), secret, sandbox.clock)
        _send_ipns(sandbox, batch)
    return "OK"


@router.get("/payout/{batch_id}", dependencies=[Depends(require_api_key)])
async def get_payout(sandbox: SandboxDep, batch_id: str) -> list[dict[str, Any]]:
    """Return the batch's withdrawals, as NOWPayments returns them for a payout id."""
    return [w.to_json() for w in _find(sandbox, batch_id).withdrawals]


@control_router.get("/{batch_id}")
async def show_payout(sandbox: SandboxDep, batch_id: str) -> dict[str, Any]:
    batch = _find(sandbox, batch_id)
    return {
        **_batch_json(batch),
        "verified": batch.verified,
        "failed_attempts": batch.failed_attempts,
    }


@control_router.post("/{batch_id}/finish")
async def finish_payout(sandbox: SandboxDep, batch_id: str, body: FinishBody) -> dict[str, Any]:
    """End the payout with `status` and send its IPNs; returns the deliveries."""
    async with sandbox.state.lock:
        batch = _find(sandbox, batch_id)
        service.finish_batch(batch, body.status, body.error, sandbox.clock)
        deliveries = _send_ipns(sandbox, batch)
    return {**_batch_json(batch), "deliveries": [d.to_json() for d in deliveries]}


def payout_store(sandbox: Sandbox) -> PayoutStore:
    return sandbox.state.payouts


def _find(sandbox: Sandbox, batch_id: str) -> PayoutBatch:
    batch = payout_store(sandbox).batches.get(batch_id)
    if batch is None:
        raise errors.not_found(f"Payout {batch_id} not found")
    return batch


def _send_ipns(sandbox: Sandbox, batch: PayoutBatch) -> list[Any]:
    """Send one signed IPN per withdrawal to its callback URL, as for payments."""
    deliveries = []
    for withdrawal in batch.withdrawals:
        message = WebhookMessage(withdrawal.status, withdrawal.id, _render(sandbox, withdrawal))
        # The payment IPNs' dispatcher: same signing, retries and delivery records.
        url = withdrawal.ipn_callback_url
        deliveries += sandbox._dispatch(
            Provider.NOWPAYMENTS, batch.id, url, [message], DeliveryOptions()
        )
    return deliveries


def _render(sandbox: Sandbox, withdrawal: Withdrawal) -> Any:
    body = canonical_json(withdrawal.to_json()).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "x-nowpayments-sig": sign_ipn(body, sandbox.settings.nowpayments_ipn_secret),
    }
    return lambda attempt: (body, headers)


def _batch_json(batch: PayoutBatch) -> dict[str, Any]:
    return {"id": batch.id, "withdrawals": [w.to_json() for w in batch.withdrawals]}


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await read_json(request)
    except ValueError:
        raise errors.invalid_params("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.invalid_params("request body must be a JSON object")
    return body


__all__ = ["control_router", "router"]
