"""Where the Mailcow admin API is and how to call it, from BWAI_MAILCOW_* environment variables."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class MailcowSettings(BaseSettings):
    """`base_url` is the Mailcow host, such as `https://mail.example.com`; `/api/v1` is appended."""

    model_config = SettingsConfigDict(env_prefix="BWAI_MAILCOW_", extra="ignore", frozen=True)

    base_url: str
    api_key: SecretStr
    timeout_s: float = Field(default=10.0, gt=0)
    # Attempts for a request that failed with a 5xx or without a response; 401 and 403 get one.
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_s: float = Field(default=0.5, ge=0)

    @field_validator("base_url")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname)):
            return value.rstrip("/")
        raise ValueError(
            f"BWAI_MAILCOW_BASE_URL must be an https:// URL (http:// only for loopback), "
            f"got {value!r}"
        )


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
