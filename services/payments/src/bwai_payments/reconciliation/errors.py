"""Problems the reconciliation endpoints report."""

from __future__ import annotations

from bwai_payments.errors import PaymentsError


class RunNotFound(PaymentsError):
    status = 404
    code = "reconciliation-run-not-found"
    title = "Reconciliation run not found"


class RecordNotFound(PaymentsError):
    status = 404
    code = "reconciliation-record-not-found"
    title = "Reconciliation record not found"


class RecordNotResolvable(PaymentsError):
    status = 409
    code = "reconciliation-record-not-resolvable"
    title = "Reconciliation record cannot be resolved"


class DayNotReconcilable(PaymentsError):
    status = 422
    code = "reconciliation-day-invalid"
    title = "Day cannot be reconciled"


class ImportInvalid(PaymentsError):
    """An uploaded CSV export is malformed; the message names the line and the column."""

    status = 422
    code = "reconciliation-import-invalid"
    title = "Reconciliation import is invalid"
