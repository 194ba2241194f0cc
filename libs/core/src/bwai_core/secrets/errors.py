"""Errors of the secret stores. Messages name the secret and the backend, never a value."""

from __future__ import annotations


class SecretError(Exception):
    """Root of the secret store errors; `name` is the secret that was requested."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class SecretNotFound(SecretError):
    """The backend has no value for the secret (or only an empty one)."""


class SecretAccessDenied(SecretError):
    """The backend refused the request: a missing, expired or under-privileged token."""


class SecretBackendUnavailable(SecretError):
    """The backend could not be reached or returned something unusable; worth retrying."""
