"""Problems of refunds and disputes."""

from __future__ import annotations

from bwai_payments.errors import PaymentsError


class RefundNotFound(PaymentsError):
    status = 404
    code = "refund-not-found"
    title = "Refund not found"


class RefundExceedsPaid(PaymentsError):
    status = 422
    code = "refund-exceeds-paid"
    title = "Refund exceeds the amount paid"


class RefundAmountInvalid(PaymentsError):
    status = 422
    code = "refund-amount-invalid"
    title = "Refund amount invalid"


class PaymentNotRefundable(PaymentsError):
    status = 409
    code = "payment-not-refundable"
    title = "Payment cannot be refunded"


class RefundStateConflict(PaymentsError):
    """The refund is not in a state that allows this step (verify, confirm)."""

    status = 409
    code = "refund-state-conflict"
    title = "Refund is not in a state for this step"


class PayoutNotConfigured(PaymentsError):
    status = 422
    code = "payout-not-configured"
    title = "Provider payouts not configured"


class VerificationRejected(PaymentsError):
    status = 422
    code = "payout-verification-rejected"
    title = "Payout verification code rejected"
