"""Secrets read through one interface, from environment variables, mounted files or Vault.

Services hold a `CachedSecret` (or a `RotatingSecret` for webhook signature checks) built on the
store that `secret_store_from_settings` returns, and ask it for the value each time, so a
rotated secret is picked up without a restart.
"""

from bwai_core.secrets.base import SecretStore, SecretValue, check_name, previous_name
from bwai_core.secrets.config import SecretsBackend, SecretsSettings, secret_store_from_settings
from bwai_core.secrets.env import EnvSecretStore
from bwai_core.secrets.errors import (
    SecretAccessDenied,
    SecretBackendUnavailable,
    SecretError,
    SecretNotFound,
)
from bwai_core.secrets.files import FileSecretStore
from bwai_core.secrets.holders import CachedSecret, RotatingSecret, SecretCandidate
from bwai_core.secrets.vault import VaultSecretStore
from bwai_core.secrets.watcher import SecretValues, SecretWatcher

__all__ = [
    "CachedSecret",
    "EnvSecretStore",
    "FileSecretStore",
    "RotatingSecret",
    "SecretAccessDenied",
    "SecretBackendUnavailable",
    "SecretCandidate",
    "SecretError",
    "SecretNotFound",
    "SecretStore",
    "SecretValue",
    "SecretValues",
    "SecretWatcher",
    "SecretsBackend",
    "SecretsSettings",
    "VaultSecretStore",
    "check_name",
    "previous_name",
    "secret_store_from_settings",
]
