"""Refund logic: request (once per Idempotency-Key), payout, verification and confirmation.

Every operator step writes its operator_audit row and outbox event in the transaction that
changes the refund. Provider calls happen between transactions, never inside one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import pyotp
import structlog
from bwai_core.db import transaction
from bwai_core.secrets import SecretNotFound
from bwai_messaging.envelope import Event
from bwai_messaging.outbox import enqueue
from bwai_web.service import ServiceContext
from starlette.responses import Response

from bwai_payments.audit.models import AuditTarget, OperatorRequest
from bwai_payments.audit.service import record_operator_action
from bwai_payments.errors import (
    PaymentNotFound,
    ProviderRejected,
    ProviderResponseInvalid,
    ProviderUnavailable,
)
from bwai_payments.idempotent import Completion
from bwai_payments.refunds import repository, rules
from bwai_payments.refunds.errors import (
    RefundExceedsPaid,
    RefundNotFound,
    RefundStateConflict,
    VerificationRejected,
)
from bwai_payments.refunds.events import refund_event
from bwai_payments.refunds.models import ConfirmRefundRequest, CreateRefundRequest, RefundOut
from bwai_payments.refunds.payouts import (
    PayoutAccess,
    PayoutClient,
    PayoutOutcomeUnknown,
    PayoutRequest,
)
from bwai_payments.refunds.settings import payout_ipn_url, payout_secrets
from bwai_payments.settings import PaymentsSettings

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class PayoutAttempt:
    """The provider's response to a payout request; at most one of the outcomes is set."""

    batch_id: str | None = None
    payout_id: str | None = None
    provider_status: str | None = None
    verified: bool = False
    # The provider refused the payout: nothing will be sent.
    rejected: str | None = None
    # The outcome is unknown, or the verification failed: the refund stays requested.
    error: str | None = None


async def create_refund(
    ctx: ServiceContext,
    payment_id: UUID,
    request: CreateRefundRequest,
    operator: OperatorRequest,
    key: str,
    completion: Completion,
) -> Response:
    """Record the refund, then send a NOWPayments payout; store the response for the key.

    Emits payments.refund.requested, and then submitted or failed for a payout. Raises
    PaymentNotFound, PaymentNotRefundable, RefundAmountInvalid, or RefundExceedsPaid (the
    database refused the amount, nothing was written).
    """
    refund, created = await _insert_refund(ctx, payment_id, request, operator, key)
    if created and refund["method"] == "payout":
        attempt = await _send_payout(ctx, refund)
        async with transaction(ctx.pool) as conn:
            refund = await _record_payout(ctx, conn, refund, attempt)
    async with transaction(ctx.pool) as conn:
        body = RefundOut.from_row(refund).model_dump(mode="json")
        location = {"Location": f"/v1/refunds/{refund['id']}"}
        return await completion.complete(conn, 201 if created else 200, body, location)


async def verify_refund(
    ctx: ServiceContext, refund_id: UUID, code: str, operator: OperatorRequest
) -> RefundOut:
    """Send the operator's 2FA code for a payout waiting for it; submitted on success.

    Raises RefundNotFound, RefundStateConflict, or VerificationRejected (recorded on the refund).
    """
    refund = await repository.get_refund(ctx.pool, refund_id)
    if refund is None:
        raise RefundNotFound(f"refund {refund_id} not found")
    if not refund["awaiting_verification"] or refund["provider_reference"] is None:
        raise RefundStateConflict(
            f"refund {refund_id} is {refund['status']} and waits for no verification code"
        )
    attempt = await _verify(ctx, refund, code)
    async with transaction(ctx.pool) as conn:
        after = await _record_payout(ctx, conn, refund, attempt)
        await _audit(conn, operator, "refund.verified", refund, after)
    if not attempt.verified:
        raise VerificationRejected(f"refund {refund_id}: {attempt.error}")
    return RefundOut.from_row(after)


async def confirm_refund(
    ctx: ServiceContext, refund_id: UUID, request: ConfirmRefundRequest, operator: OperatorRequest
) -> RefundOut:
    """Record the outcome of a refund an operator made in the provider's dashboard.

    Repeating the same confirmation returns the refund unchanged. Emits payments.refund.completed
    (with its ledger posting) or payments.refund.failed.
    """
    async with transaction(ctx.pool) as conn:
        refund = await repository.get_refund(conn, refund_id, for_update=True)
        if refund is None:
            raise RefundNotFound(f"refund {refund_id} not found")
        if refund["method"] != "manual":
            raise RefundStateConflict(
                f"refund {refund_id} is a provider payout; its payout webhooks complete it"
            )
        if refund["status"] in ("completed", "failed"):
            if refund["status"] == request.outcome:
                return RefundOut.from_row(refund)
            raise RefundStateConflict(f"refund {refund_id} is already {refund['status']}")
        after = await _advance(
            ctx,
            conn,
            refund,
            request.outcome,
            provider_reference=request.provider_reference,
            failure_reason=request.note if request.outcome == "failed" else None,
        )
        await _audit(conn, operator, "refund.confirmed", refund, after)
        return RefundOut.from_row(after)


async def apply_payout_event(
    ctx: ServiceContext, conn: asyncpg.Connection, event: Event, refund: asyncpg.Record
) -> asyncpg.Record | None:
    """Move the refund by a payout webhook's status; None when it changes nothing."""
    data = event.data
    status = rules.PAYOUT_STATUSES[data["status"]]
    if rules.STATUS_RANK[status] <= refund["status_rank"]:
        return None
    failure = (data.get("error") or f"payout {data['status']}") if status == "failed" else None
    return await _advance(
        ctx,
        conn,
        refund,
        status,
        provider_status=data["status"],
        failure_reason=failure,
        causation=event,
    )


async def get_refund(ctx: ServiceContext, refund_id: UUID, tenant_id: str | None) -> RefundOut:
    row = await repository.get_refund(ctx.pool, refund_id, tenant_id)
    if row is None:
        raise RefundNotFound(f"refund {refund_id} not found")
    return RefundOut.from_row(row)


async def list_refunds(
    ctx: ServiceContext, payment_id: UUID, tenant_id: str | None
) -> list[RefundOut]:
    payment = await repository.payment_for_refund(ctx.pool, payment_id, tenant_id)
    if payment is None:
        raise PaymentNotFound(f"payment {payment_id} not found")
    rows = await repository.list_for_payment(ctx.pool, payment_id)
    return [RefundOut.from_row(row) for row in rows]


async def _insert_refund(
    ctx: ServiceContext,
    payment_id: UUID,
    request: CreateRefundRequest,
    operator: OperatorRequest,
    key: str,
) -> tuple[asyncpg.Record, bool]:
    """Insert the refund with its audit row and event; return it and whether it is new."""
    amount = request.decimal_amount()
    payment: asyncpg.Record | None = None
    try:
        async with transaction(ctx.pool) as conn:
            payment = await repository.payment_for_refund(conn, payment_id)
            if payment is None:
                raise PaymentNotFound(f"payment {payment_id} not found")
            # A retry whose first attempt committed finds its refund, even after the key's
            # claim was released.
            existing = await repository.refund_by_key(conn, payment_id, key)
            if existing is not None:
                return existing, False
            rules.check_refundable(payment, amount)
            partial = rules.is_partially_paid(payment)
            row = await repository.insert_refund(
                conn,
                payment=payment,
                method=rules.METHODS[payment["provider"]],
                amount=amount,
                reason=request.reason,
                refund_address=request.refund_address,
                partially_paid=partial,
                provider_note=rules.provider_note(payment["provider"], partial),
                requested_by=operator.principal.subject,
                idempotency_key=key,
                now=ctx.clock.now(),
            )
            if row is None:
                existing = await repository.refund_by_key(conn, payment_id, key)
                assert existing is not None
                return existing, False
            await _audit(conn, operator, "refund.requested", None, row)
            await enqueue(conn, refund_event(row, ctx.clock), schemas=ctx.schemas)
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name != repository.ALLOWANCE_CONSTRAINT or payment is None:
            raise
        raise RefundExceedsPaid(_exceeds_message(payment, amount)) from exc
    log.info(
        "refund.requested",
        refund_id=str(row["id"]),
        payment_id=str(payment_id),
        amount=str(amount),
        currency=row["currency"],
    )
    return row, True


def _exceeds_message(payment: asyncpg.Record, amount: Any) -> str:
    left = payment["actually_paid"] - payment["refunded"]
    return (
        f"refund of {amount} {payment['pay_currency']} exceeds what payment {payment['id']} can "
        f"still refund: {left.normalize():f} of {payment['actually_paid'].normalize():f} paid"
    )


async def _send_payout(ctx: ServiceContext, refund: asyncpg.Record) -> PayoutAttempt:
    """Request the payout and, when the account's TOTP secret is stored, verify it."""
    settings = ctx.settings
    assert isinstance(settings, PaymentsSettings)
    secrets = payout_secrets(ctx)
    try:
        access = PayoutAccess(
            base_url=settings.nowpayments_api_url,
            api_key=await secrets.api_key.value(),
            email=await secrets.email.value(),
            password=await secrets.password.value(),
            timeout_s=settings.provider_timeout_s,
        )
    except SecretNotFound as exc:
        return PayoutAttempt(rejected=f"NOWPayments payouts are not configured: {exc}")
    client = PayoutClient(ctx.http, access)
    payout = PayoutRequest(
        refund_id=str(refund["id"]),
        address=refund["refund_address"],
        currency=refund["currency"],
        amount=refund["amount"].normalize(),
        ipn_callback_url=payout_ipn_url(settings),
        description=f"refund {refund['id']}",
    )
    try:
        created = await client.create(payout)
    except (PayoutOutcomeUnknown, ProviderResponseInvalid) as exc:
        # The payout may exist; only its webhook can settle the refund now.
        # TODO: look the payout up (GET /payout by unique_external_id) and offer a retry.
        log.error("refund.payout.outcome_unknown", refund_id=str(refund["id"]), error=exc.detail)
        return PayoutAttempt(error=exc.detail)
    except (ProviderRejected, ProviderUnavailable) as exc:
        # Rejected, or never sent: no payout exists, so the refund fails and frees its amount.
        return PayoutAttempt(rejected=exc.detail)

    first = PayoutAttempt(created.batch_id, created.withdrawal_id, created.status or None)
    totp_secret = await secrets.totp_secret_or_none()
    if totp_secret is None:
        return first
    code = pyotp.TOTP(totp_secret).at(ctx.clock.now())
    return await _verify_with(client, first, code)


async def _verify(ctx: ServiceContext, refund: asyncpg.Record, code: str) -> PayoutAttempt:
    settings = ctx.settings
    assert isinstance(settings, PaymentsSettings)
    secrets = payout_secrets(ctx)
    access = PayoutAccess(
        base_url=settings.nowpayments_api_url,
        api_key=await secrets.api_key.value(),
        email=await secrets.email.value(),
        password=await secrets.password.value(),
        timeout_s=settings.provider_timeout_s,
    )
    known = PayoutAttempt(refund["provider_reference"], refund["provider_payout_id"])
    return await _verify_with(PayoutClient(ctx.http, access), known, code)


async def _verify_with(client: PayoutClient, attempt: PayoutAttempt, code: str) -> PayoutAttempt:
    assert attempt.batch_id is not None
    try:
        await client.verify(attempt.batch_id, code)
    except (ProviderRejected, ProviderUnavailable, ProviderResponseInvalid) as exc:
        return PayoutAttempt(
            attempt.batch_id, attempt.payout_id, attempt.provider_status, error=exc.detail
        )
    return PayoutAttempt(attempt.batch_id, attempt.payout_id, attempt.provider_status, True)


async def _record_payout(
    ctx: ServiceContext, conn: asyncpg.Connection, refund: asyncpg.Record, attempt: PayoutAttempt
) -> asyncpg.Record:
    """Store the provider's response; advance the refund when the payout was verified."""
    now = ctx.clock.now()
    if attempt.rejected is not None:
        failed = await _advance(ctx, conn, refund, "failed", failure_reason=attempt.rejected)
        return failed
    fields: dict[str, Any] = {"last_error": attempt.error}
    if attempt.batch_id is not None:
        fields |= {
            "provider_reference": attempt.batch_id,
            "provider_payout_id": attempt.payout_id,
            "awaiting_verification": not attempt.verified,
        }
        if attempt.provider_status is not None:
            fields["provider_status"] = attempt.provider_status
    row = await repository.update_refund(conn, refund["id"], now, **fields)
    if attempt.verified:
        return await _advance(ctx, conn, row, "submitted")
    return row


async def _advance(
    ctx: ServiceContext,
    conn: asyncpg.Connection,
    refund: asyncpg.Record,
    status: str,
    *,
    provider_status: str | None = None,
    failure_reason: str | None = None,
    provider_reference: str | None = None,
    causation: Event | None = None,
) -> asyncpg.Record:
    """Move the refund forward, post a completed one to the ledger and enqueue its event.

    Returns the refund as it is now, unchanged when it was already at or beyond `status`.
    """
    now = ctx.clock.now()
    row = await repository.advance_status(
        conn,
        refund["id"],
        status=status,
        rank=rules.STATUS_RANK[status],
        now=now,
        provider_status=provider_status,
        failure_reason=failure_reason,
        provider_reference=provider_reference,
    )
    if row is None:
        current = await repository.get_refund(conn, refund["id"])
        assert current is not None
        return current
    event = refund_event(row, ctx.clock, causation)
    if status == "completed":
        await repository.post_refund_sent(conn, row, event_id=event.id, now=now)
    await enqueue(conn, event, schemas=ctx.schemas)
    log.info("refund.status.changed", refund_id=str(row["id"]), status=status)
    return row


async def _audit(
    conn: asyncpg.Connection,
    operator: OperatorRequest,
    action: str,
    before: asyncpg.Record | None,
    after: asyncpg.Record,
) -> None:
    target = AuditTarget("refund", str(after["id"]), after["tenant_id"])
    await record_operator_action(
        conn,
        operator.principal,
        operator.meta,
        action,
        target,
        before=_snapshot(before),
        after=_snapshot(after),
    )


def _snapshot(row: asyncpg.Record | None) -> dict[str, Any] | None:
    return None if row is None else RefundOut.from_row(row).model_dump(mode="json")
