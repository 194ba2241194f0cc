"""Refund settings: PaymentsSettings inherits them, so they come from BWAI_* too."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class RefundSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BWAI_", extra="ignore", frozen=True)

    # Where NOWPayments posts payout status IPNs; defaults to <public base>/v1/webhooks/
    # nowpayments/payouts.
    nowpayments_payout_ipn_url: str | None = None
    nowpayments_payout_totp_secret: SecretStr | None = None
