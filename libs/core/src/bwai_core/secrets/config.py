"""Selection of a service's secret store by the BWAI_SECRETS_* and BWAI_VAULT_* variables."""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import httpx
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bwai_core.secrets.base import SecretStore
from bwai_core.secrets.env import EnvSecretStore
from bwai_core.secrets.files import FileSecretStore
from bwai_core.secrets.vault import VaultSecretStore

SecretsBackend = Literal["env", "file", "vault"]


class SecretsSettings(BaseSettings):
    """Secret store selection; ServiceSettings inherits these fields."""

    model_config = SettingsConfigDict(env_prefix="BWAI_", extra="ignore", frozen=True)

    secrets_backend: SecretsBackend = "env"
    # Directory with one file per secret (file backend), e.g. a mounted Kubernetes secret.
    secrets_dir: Path | None = None
    # How long a service uses a fetched secret before asking the store again.
    secrets_cache_ttl_seconds: float = Field(default=5.0, ge=0)
    vault_addr: str | None = None
    vault_token: SecretStr | None = None
    # A file holding the token, re-read when it changes (a Vault agent sink, for example).
    vault_token_file: Path | None = None
    vault_mount: str = "secret"
    vault_path_prefix: str = "bwai"
    vault_timeout_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _backend_configured(self) -> SecretsSettings:
        if self.secrets_backend == "file" and self.secrets_dir is None:
            raise ValueError("BWAI_SECRETS_BACKEND=file needs BWAI_SECRETS_DIR")
        if self.secrets_backend == "vault":
            if not self.vault_addr:
                raise ValueError("BWAI_SECRETS_BACKEND=vault needs BWAI_VAULT_ADDR")
            if (self.vault_token is None) == (self.vault_token_file is None):
                raise ValueError(
                    "BWAI_SECRETS_BACKEND=vault needs exactly one of BWAI_VAULT_TOKEN and "
                    "BWAI_VAULT_TOKEN_FILE"
                )
        return self


def secret_store_from_settings(
    settings: SecretsSettings,
    *,
    configured: Mapping[str, str] | None = None,
    client: httpx.AsyncClient | None = None,
) -> SecretStore:
    """Build the store that `settings.secrets_backend` names.

    `configured` contains secret values handed to the settings object directly (by the embedded
    launcher or a test) under their secret names; the env backend reads them before the process
    environment. The file and Vault backends ignore them. `client` is used for Vault requests
    instead of a client of the store's own.
    """
    if settings.secrets_backend == "file":
        assert settings.secrets_dir is not None
        return FileSecretStore(settings.secrets_dir)
    if settings.secrets_backend == "vault":
        return _vault_store(settings, client)
    prefixed = {"BWAI_" + name.upper(): value for name, value in (configured or {}).items()}
    return EnvSecretStore(ChainMap(prefixed, os.environ))


def _vault_store(settings: SecretsSettings, client: httpx.AsyncClient | None) -> VaultSecretStore:
    assert settings.vault_addr is not None
    token = settings.vault_token.get_secret_value() if settings.vault_token is not None else None
    return VaultSecretStore(
        settings.vault_addr,
        token=token,
        token_file=settings.vault_token_file,
        mount=settings.vault_mount,
        path_prefix=settings.vault_path_prefix,
        cache_ttl_s=settings.secrets_cache_ttl_seconds,
        timeout_s=settings.vault_timeout_seconds,
        client=client,
    )
