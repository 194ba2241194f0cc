"""Reconciliation settings: PaymentsSettings inherits them, so they come from BWAI_* too."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReconciliationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BWAI_", extra="ignore", frozen=True)

    # UTC time of day ("HH:MM") after which the scheduler reconciles the previous UTC day.
    reconciliation_time: time = time(0, 30)
    reconciliation_enabled: bool = True
    # How often each replica checks whether a scheduled day is due, in seconds.
    reconciliation_poll_seconds: float = Field(default=60.0, gt=0)
    # A claimed day whose run has not finished after this long is taken over by another replica.
    reconciliation_claim_timeout_seconds: int = Field(default=3600, gt=0)
    # Mismatch rate of the last 24 hours above which one alert is raised (0.001 is 0.1%).
    reconciliation_alert_threshold: Decimal = Decimal("0.001")
    # Provider list APIs filter on creation time, so payments created up to this many days
    # before the day are fetched and filtered by their last status change.
    reconciliation_lookback_days: int = Field(default=8, ge=0, le=62)
    # NOWPayments account login for the JWT that its payment list requires (POST /v1/auth).
    nowpayments_email: str | None = None
    nowpayments_password: str | None = None

    @field_validator("reconciliation_time", mode="before")
    @classmethod
    def _parse_time(cls, value: object) -> object:
        if isinstance(value, str) and len(value) == 5:
            return time.fromisoformat(value)
        return value
