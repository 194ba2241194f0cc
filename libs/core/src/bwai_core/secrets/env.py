"""Secrets from environment variables: secret `name` is BWAI_<NAME>."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bwai_core.secrets.base import SecretValue, check_name
from bwai_core.secrets.errors import SecretNotFound


class EnvSecretStore:
    """Read secrets from a mapping of environment variables, os.environ by default.

    A process cannot see changes made to its environment from outside, so rotating an
    environment secret needs a restart. The file and Vault backends rotate without one.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, *, prefix: str = "BWAI_") -> None:
        self._environ = os.environ if environ is None else environ
        self._prefix = prefix

    async def get(self, name: str) -> SecretValue:
        variable = self._prefix + check_name(name).upper()
        value = self._environ.get(variable)
        if value is None or not value.strip():
            raise SecretNotFound(name, f"secret {name!r} is not set: set {variable}")
        return SecretValue(value)

    async def aclose(self) -> None:
        return None
