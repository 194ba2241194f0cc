"""The seam through which mail credentials are read, so a rotated secret needs no code change.

A reader is called on every use and never cached here: a reader backed by a mounted secret file or
a vault can return the new value after a rotation without restarting the process.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

SecretReader = Callable[[], str]


def static_secret(value: SecretStr) -> SecretReader:
    """Return a reader for a secret fixed at start, such as one from an environment variable."""
    return value.get_secret_value
