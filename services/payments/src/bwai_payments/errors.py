"""Problems the payments service reports; each has a stable code and an HTTP status."""

from __future__ import annotations

from bwai_core.errors import ServiceError


class PaymentsError(ServiceError):
    status = 400
    code = "payments-error"
    title = "Payments request failed"


class OrderNotFound(PaymentsError):
    status = 404
    code = "order-not-found"
    title = "Order not found"


class PaymentNotFound(PaymentsError):
    status = 404
    code = "payment-not-found"
    title = "Payment not found"


class OrderNotCancellable(PaymentsError):
    status = 409
    code = "order-not-cancellable"
    title = "Order cannot be cancelled"


class OrderNotPayable(PaymentsError):
    status = 409
    code = "order-not-payable"
    title = "Order cannot take a payment"


class PaymentAlreadyActive(PaymentsError):
    status = 409
    code = "payment-already-active"
    title = "Order already has an active payment"


class TenantRequired(PaymentsError):
    status = 422
    code = "tenant-required"
    title = "Tenant required"


class TenantNotAllowed(PaymentsError):
    status = 403
    code = "tenant-not-allowed"
    title = "Tenant not allowed"


class ProviderNotConfigured(PaymentsError):
    status = 422
    code = "provider-not-configured"
    title = "Payment provider not configured"


class ProviderUnavailable(PaymentsError):
    """The provider could not be reached or answered with a server error; safe to retry."""

    status = 503
    code = "provider-unavailable"
    title = "Payment provider unavailable"


class ProviderRejected(PaymentsError):
    """The provider refused the request (4xx); retrying the same request will not help."""

    status = 502
    code = "provider-rejected"
    title = "Payment provider rejected the request"


class ProviderResponseInvalid(PaymentsError):
    status = 502
    code = "provider-response-invalid"
    title = "Payment provider sent an invalid response"
