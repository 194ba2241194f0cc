"""The secret store interface: one async `get` per secret name, whatever backend stores it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Lower-case snake_case, so a name maps to one environment variable, one file name and one
# Vault path segment, and can never climb out of a directory or a Vault prefix.
_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,127}")
PREVIOUS_SUFFIX = "_previous"


@dataclass(frozen=True, slots=True)
class SecretValue:
    """A secret's value with what the backend reports about its version."""

    value: str = field(repr=False)
    # Backend-specific: the Vault KV version, the file's "<inode>:<mtime_ns>", None for env.
    version: str | None = None
    updated_at: datetime | None = None


class SecretStore(Protocol):
    async def get(self, name: str) -> SecretValue:
        """Return the current value of secret `name`.

        Raises SecretNotFound, SecretAccessDenied or SecretBackendUnavailable.
        """
        ...

    async def aclose(self) -> None:
        """Release connections the store holds; a no-op for local backends."""
        ...


def check_name(name: str) -> str:
    """Return `name` when it is a valid secret name, else raise ValueError."""
    if not _NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"invalid secret name {name!r}: use lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    return name


def previous_name(name: str) -> str:
    """Return the name of the explicit previous value kept during a rotation."""
    return name + PREVIOUS_SUFFIX
