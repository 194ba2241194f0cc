"""The secrets that NOWPayments payouts need, read through the service's secret store."""

from __future__ import annotations

from dataclasses import dataclass

from bwai_core.secrets import CachedSecret, SecretNotFound, secret_store_from_settings
from bwai_web.service import ServiceContext

from bwai_payments.settings import PaymentsSettings

# Secret names in the store (BWAI_NOWPAYMENTS_EMAIL ... with the env backend).
API_KEY = "nowpayments_api_key"
EMAIL = "nowpayments_email"
PASSWORD = "nowpayments_password"  # noqa: S105 - a secret's name, not its value
# Base32 TOTP secret of the NOWPayments account's 2FA; it makes the payout verification code.
# Without it an operator types the code from the account's authenticator.
TOTP_SECRET = "nowpayments_payout_totp_secret"  # noqa: S105 - a secret's name
SECRETS_KEY = "payments.payout_secrets"


@dataclass(frozen=True, slots=True)
class PayoutSecrets:
    """The secrets of NOWPayments payouts, each re-read from the store after its TTL."""

    api_key: CachedSecret
    email: CachedSecret
    password: CachedSecret
    totp_secret: CachedSecret

    async def totp_secret_or_none(self) -> str | None:
        try:
            return await self.totp_secret.value()
        except SecretNotFound:
            return None


def payout_secrets(ctx: ServiceContext) -> PayoutSecrets:
    """Return the service's payout secrets, built on first use from its secret store."""
    existing = ctx.extras.get(SECRETS_KEY)
    if isinstance(existing, PayoutSecrets):
        return existing
    settings = ctx.settings
    assert isinstance(settings, PaymentsSettings)
    store = secret_store_from_settings(settings, configured=_configured(settings), client=ctx.http)
    ttl = settings.secrets_cache_ttl_seconds
    secrets = PayoutSecrets(
        *(CachedSecret(store, name, ttl_s=ttl) for name in (API_KEY, EMAIL, PASSWORD, TOTP_SECRET))
    )
    ctx.extras[SECRETS_KEY] = secrets
    return secrets


def payout_ipn_url(settings: PaymentsSettings) -> str:
    if settings.nowpayments_payout_ipn_url:
        return settings.nowpayments_payout_ipn_url
    return settings.public_base_url.rstrip("/") + "/v1/webhooks/nowpayments/payouts"


def _configured(settings: PaymentsSettings) -> dict[str, str]:
    # Values handed to the settings object directly (the embedded launcher, tests) come first,
    # then the BWAI_* variables. The env backend reads the process environment after both.
    totp = settings.nowpayments_payout_totp_secret
    values = {
        API_KEY: settings.nowpayments_api_key,
        EMAIL: settings.nowpayments_email,
        PASSWORD: settings.nowpayments_password,
        TOTP_SECRET: totp.get_secret_value() if totp is not None else None,
    }
    return {name: str(value) for name, value in values.items() if value}
