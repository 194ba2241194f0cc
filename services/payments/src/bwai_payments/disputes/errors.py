"""Problems of disputes."""

from __future__ import annotations

from bwai_payments.errors import PaymentsError


class DisputeNotFound(PaymentsError):
    status = 404
    code = "dispute-not-found"
    title = "Dispute not found"


class DisputeAlreadyOpen(PaymentsError):
    status = 409
    code = "dispute-already-open"
    title = "Payment already has an open dispute"


class DisputeAlreadyResolved(PaymentsError):
    status = 409
    code = "dispute-already-resolved"
    title = "Dispute already resolved"
