"""Webhooks-ingest's typed errors, rendered as problem+json."""

from __future__ import annotations

from bwai_core.errors import ServiceError


class WebhookError(ServiceError):
    code = "webhook-error"
    title = "Webhook error"


class WebhookSignatureMissing(WebhookError):
    status = 401
    code = "signature-missing"
    title = "Webhook signature missing"


class WebhookSignatureInvalid(WebhookError):
    status = 401
    code = "signature-invalid"
    title = "Webhook signature invalid"


class WebhookPayloadInvalid(WebhookError):
    status = 400
    code = "payload-invalid"
    title = "Webhook payload invalid"


class WebhookPayloadTooLarge(WebhookError):
    status = 413
    code = "payload-too-large"
    title = "Webhook payload too large"


class WebhookSecretUnset(WebhookError):
    status = 503
    code = "webhook-secret-unset"
    title = "Webhook secret not configured"


class WebhookSecretUnavailable(WebhookError):
    status = 503
    code = "webhook-secret-unavailable"
    title = "Webhook secret unavailable"
