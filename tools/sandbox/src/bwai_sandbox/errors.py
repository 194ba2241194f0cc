"""Failures of control and checkout actions, answered as {"detail": ...} with a status."""

from __future__ import annotations


class SandboxError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CheckoutNotFound(SandboxError):
    status_code = 404


class CheckoutStateConflict(SandboxError):
    """The action does not fit the checkout's current state (paying twice, say)."""

    status_code = 409


class ActionInvalid(SandboxError):
    status_code = 400


class DeliveryNotFound(SandboxError):
    status_code = 404
