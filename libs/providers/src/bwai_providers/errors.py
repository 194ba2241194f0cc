"""Typed failures of webhook verification and payload reading.

Callers map each to an HTTP status: a missing or wrong signature is an authentication failure
(401), and an invalid payload is a bad request (400).
"""

from __future__ import annotations


class ProviderWebhookError(Exception):
    """A webhook delivery that must not be accepted; `reason` is a stable short code."""

    reason: str = "webhook-rejected"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SignatureMissing(ProviderWebhookError):
    reason = "signature-missing"


class SignatureInvalid(ProviderWebhookError):
    reason = "signature-invalid"


class PayloadInvalid(ProviderWebhookError):
    """The body is not JSON, not an object, or lacks a field we need; `field` names it."""

    reason = "payload-invalid"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field
