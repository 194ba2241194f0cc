"""Sandbox settings, read from BWAI_SANDBOX_* environment variables."""

from __future__ import annotations

import base64

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The development 2FA secret of the sandbox account: base32 of a fixed phrase, a public test
# value. Configure payments with the same value (BWAI_NOWPAYMENTS_PAYOUT_TOTP_SECRET) so that it
# makes the payout verification codes itself.
DEV_PAYOUT_TOTP_SECRET = base64.b32encode(b"bwai sandbox payouts").decode().rstrip("=")


class SandboxSettings(BaseSettings):
    """Where the sandbox listens, the credentials it accepts and how it delivers webhooks.

    The keys and secrets default to fixed development values because the sandbox only ever
    replaces the providers on a developer's machine or in CI. The payments and
    webhooks-ingest services must be configured with the same values.
    """

    model_config = SettingsConfigDict(env_prefix="BWAI_SANDBOX_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    # Base URL that browsers use to reach the sandbox; checkout links are built from it.
    public_url: str | None = None

    nowpayments_api_key: str = "sandbox-nowpayments-api-key"
    nowpayments_ipn_secret: str = "sandbox-nowpayments-ipn-secret"  # noqa: S105
    nowpayments_email: str = "merchant@example.test"
    nowpayments_password: str = "sandbox-nowpayments-password"  # noqa: S105
    # NOWPayments documents a 5-minute lifetime for the token from POST /v1/auth.
    nowpayments_token_ttl_seconds: int = Field(default=300, ge=1)
    # Base32 TOTP secret of the account's 2FA, which payout verification codes must match;
    # unset means DEV_PAYOUT_TOTP_SECRET.
    nowpayments_payout_totp_secret: str | None = None

    coinbase_api_key: str = "sandbox-coinbase-api-key"
    coinbase_webhook_secret: str = "sandbox-coinbase-webhook-secret"  # noqa: S105
    # Coinbase sends every event of the account to its webhook endpoints; None sends nothing.
    coinbase_webhook_url: str | None = None

    # Webhooks go only to these hosts, so a stray callback URL never leaves the machine.
    webhook_allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    # Attempts per webhook, the first included; retries back off exponentially up to the cap.
    webhook_max_attempts: int = Field(default=5, ge=1)
    webhook_retry_initial_ms: int = Field(default=500, ge=0)
    webhook_retry_max_ms: int = Field(default=10_000, ge=0)

    def payout_totp_secret(self) -> str:
        return self.nowpayments_payout_totp_secret or DEV_PAYOUT_TOTP_SECRET

    @property
    def base_url(self) -> str:
        """Return the public URL without a trailing slash, defaulting to the listen address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"
