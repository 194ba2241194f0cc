"""Failures of control and checkout actions, returned as {"detail": ...} with a status code."""

from __future__ import annotations


class SandboxError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CheckoutNotFound(SandboxError):
    status_code = 404


class CheckoutStateConflict(SandboxError):
    """The action does not fit the current state of the checkout, such as a second payment."""

    status_code = 409


class ActionInvalid(SandboxError):
    status_code = 400


class DeliveryNotFound(SandboxError):
    status_code = 404
