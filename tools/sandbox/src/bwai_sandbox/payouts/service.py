"""Payout logic; the caller holds the sandbox lock around every change."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

import pyotp
from bwai_core.clock import Clock

from bwai_sandbox.nowpayments import errors
from bwai_sandbox.payouts.models import (
    CREATING,
    FINAL_STATUSES,
    PROCESSING,
    PayoutBatch,
    PayoutStore,
    Withdrawal,
)

# NOWPayments payout amounts have at most 6 decimal places (payout API documentation).
MAX_PLACES = 6
MAX_VERIFY_ATTEMPTS = 10


def create_batch(store: PayoutStore, body: dict[str, Any], clock: Clock) -> PayoutBatch:
    """Check and store a payout request; raise NowPaymentsError 400 naming the bad field."""
    entries = body.get("withdrawals")
    if not isinstance(entries, list) or not entries:
        raise errors.invalid_params("withdrawals must be a non-empty array")
    callback = body.get("ipn_callback_url")
    url = callback if isinstance(callback, str) else None
    batch = PayoutBatch(store.new_id(), clock.now(), url)
    for index, entry in enumerate(entries):
        batch.withdrawals.append(_withdrawal(store, batch, entry, index, clock))
    store.batches[batch.id] = batch
    return batch


def verify_batch(batch: PayoutBatch, code: Any, totp_secret: str, clock: Clock) -> None:
    """Accept the account's current 2FA code once; raise NowPaymentsError otherwise."""
    if batch.verified:
        raise errors.invalid_params(f"payout {batch.id} is already verified")
    if batch.failed_attempts >= MAX_VERIFY_ATTEMPTS:
        raise errors.NowPaymentsError(
            400, "VERIFICATION_ATTEMPTS_EXCEEDED", f"payout {batch.id}: too many attempts"
        )
    totp = pyotp.TOTP(totp_secret)
    if not isinstance(code, str) or not totp.verify(code, for_time=clock.now(), valid_window=1):
        batch.failed_attempts += 1
        left = MAX_VERIFY_ATTEMPTS - batch.failed_attempts
        # NOTE: the real error code for a wrong 2FA code is not documented; this one is a guess.
        raise errors.NowPaymentsError(
            400, "INVALID_VERIFICATION_CODE", f"Invalid verification code, {left} attempts left"
        )
    batch.verified = True
    for withdrawal in batch.withdrawals:
        _set_status(withdrawal, PROCESSING, None, clock)


def finish_batch(batch: PayoutBatch, status: str, error: str | None, clock: Clock) -> None:
    """End every open withdrawal of a verified batch as FINISHED, FAILED or REJECTED."""
    if status not in FINAL_STATUSES:
        raise errors.invalid_params(f"status must be one of {', '.join(sorted(FINAL_STATUSES))}")
    if not batch.verified and status == "FINISHED":
        raise errors.invalid_params(f"payout {batch.id} is not verified, so it cannot finish")
    for withdrawal in batch.withdrawals:
        if withdrawal.status in FINAL_STATUSES:
            continue
        _set_status(withdrawal, status, error, clock)
        if status == "FINISHED":
            # A made-up transaction hash, stable per withdrawal.
            withdrawal.hash = hashlib.sha256(withdrawal.id.encode()).hexdigest()


def _withdrawal(
    store: PayoutStore, batch: PayoutBatch, entry: Any, index: int, clock: Clock
) -> Withdrawal:
    where = f"withdrawals[{index}]"
    if not isinstance(entry, dict):
        raise errors.invalid_params(f"{where} must be an object")
    address, currency = entry.get("address"), entry.get("currency")
    if not isinstance(address, str) or not address:
        raise errors.invalid_params(f"{where}.address is required")
    if not isinstance(currency, str) or not currency:
        raise errors.invalid_params(f"{where}.currency is required")
    callback = entry.get("ipn_callback_url") or batch.ipn_callback_url
    return Withdrawal(
        id=store.new_id(),
        batch_withdrawal_id=batch.id,
        address=address,
        currency=currency.lower(),
        amount=_amount(entry.get("amount"), where),
        created_at=clock.now(),
        ipn_callback_url=callback if isinstance(callback, str) else None,
        extra_id=entry.get("extra_id"),
        unique_external_id=entry.get("unique_external_id"),
        payout_description=entry.get("payout_description"),
        status=CREATING,
    )


def _amount(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0:
        raise errors.invalid_params(f"{where}.amount must be a positive number")
    if -amount.normalize().as_tuple().exponent > MAX_PLACES:  # type: ignore[operator]
        raise errors.invalid_params(f"{where}.amount has more than {MAX_PLACES} decimals")
    return amount


def _set_status(withdrawal: Withdrawal, status: str, error: str | None, clock: Clock) -> None:
    now = clock.now()
    withdrawal.status = status
    withdrawal.error = error
    withdrawal.updated_at = now
    if withdrawal.requested_at is None:
        withdrawal.requested_at = now
