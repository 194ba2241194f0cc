"""Secrets from HashiCorp Vault's KV version 2 engine over its HTTP API.

Secret `name` is read with `GET {addr}/v1/{mount}/data/{path_prefix}/{name}` and its value is
the `value` key of the secret's data. Values are cached for `cache_ttl_s` so a busy endpoint
does not call Vault on every request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import structlog

from bwai_core.secrets.base import SecretValue, check_name
from bwai_core.secrets.errors import (
    SecretAccessDenied,
    SecretBackendUnavailable,
    SecretError,
    SecretNotFound,
)
from bwai_core.secrets.files import read_secret_file

log = structlog.get_logger()

_TOKEN_HEADER = "X-Vault-Token"  # noqa: S105 (a header name)
_TOKEN_NAME = "vault_token"  # noqa: S105 (the cache key of the token file)
# Vault writes nanoseconds; datetime keeps microseconds.
_FRACTION_PATTERN = re.compile(r"(\.\d{6})\d+")


@dataclass(frozen=True, slots=True)
class _Entry:
    secret: SecretValue
    expires_at: float


class VaultSecretStore:
    def __init__(
        self,
        addr: str,
        *,
        token: str | None = None,
        token_file: Path | str | None = None,
        mount: str = "secret",
        path_prefix: str = "",
        field: str = "value",
        cache_ttl_s: float = 30.0,
        timeout_s: float = 5.0,
        client: httpx.AsyncClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if (token is None) == (token_file is None):
            raise ValueError("VaultSecretStore needs exactly one of token and token_file")
        self._base_url = addr.rstrip("/") + "/v1/" + mount.strip("/") + "/data/"
        self._prefix = path_prefix.strip("/")
        self._token = token
        self._token_file = Path(token_file) if token_file is not None else None
        self._token_cache: dict[str, Any] = {}
        self._field = field
        self._cache_ttl_s = cache_ttl_s
        self._timeout_s = timeout_s
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._monotonic = monotonic
        self._cache: dict[str, _Entry] = {}

    async def get(self, name: str) -> SecretValue:
        entry = self._cache.get(check_name(name))
        now = self._monotonic()
        if entry is not None and entry.expires_at > now:
            return entry.secret
        secret = await self.read(name)
        self._cache[name] = _Entry(secret, now + self._cache_ttl_s)
        return secret

    async def read(self, name: str, *, version: int | None = None) -> SecretValue:
        """Fetch secret `name` from Vault, bypassing the cache; `version` picks an older one."""
        path = self._secret_path(check_name(name))
        params = {"version": str(version)} if version is not None else None
        try:
            response = await self._client.get(
                self._base_url + path,
                params=params,
                headers={_TOKEN_HEADER: self._read_token()},
                timeout=self._timeout_s,
            )
        except httpx.HTTPError as exc:
            raise SecretBackendUnavailable(
                name, f"Vault request for secret {name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        _raise_for_status(name, path, response)
        return self._parse(name, path, response)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def _secret_path(self, name: str) -> str:
        return f"{self._prefix}/{name}" if self._prefix else name

    def _read_token(self) -> str:
        if self._token is not None:
            return self._token
        assert self._token_file is not None
        try:
            # Re-read when the file changes, because a Vault agent renews the token in place.
            return read_secret_file(self._token_file, _TOKEN_NAME, self._token_cache).value
        except SecretError as exc:
            raise SecretAccessDenied(exc.name, f"Vault token unavailable: {exc}") from exc

    def _parse(self, name: str, path: str, response: httpx.Response) -> SecretValue:
        try:
            body = response.json()
            data = body["data"]["data"]
            metadata = body["data"]["metadata"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SecretBackendUnavailable(
                name, f"Vault response for {path} is not a KV version 2 secret"
            ) from exc
        value = data.get(self._field) if isinstance(data, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise SecretNotFound(
                name, f"Vault secret {path} has no non-empty string key {self._field!r}"
            )
        version = metadata.get("version") if isinstance(metadata, dict) else None
        return SecretValue(
            value,
            version=str(version) if version is not None else None,
            updated_at=_parse_time(metadata.get("created_time")),
        )


def _raise_for_status(name: str, path: str, response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    if status == 404:
        # Vault also returns 404 for a deleted or destroyed current version.
        raise SecretNotFound(name, f"secret {name!r} is not set: Vault has no secret at {path}")
    if status in (401, 403):
        raise SecretAccessDenied(
            name,
            f"Vault denied reading {path} (HTTP {status}): check that the token is valid and "
            "that its policy grants read on this path",
        )
    raise SecretBackendUnavailable(name, f"Vault returned HTTP {status} for {path}")


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(_FRACTION_PATTERN.sub(r"\1", text).replace("Z", "+00:00"))
    except ValueError:
        log.warning("secret.vault.time_unparsed", created_time=text)
        return None
