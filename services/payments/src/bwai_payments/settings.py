"""Payments settings, read from BWAI_* environment variables."""

from __future__ import annotations

from typing import Literal

from bwai_core.settings import ServiceSettings
from pydantic import Field

from bwai_payments.reconciliation.settings import ReconciliationSettings
from bwai_payments.refunds.config import RefundSettings


class PaymentsSettings(ServiceSettings, ReconciliationSettings, RefundSettings):
    # Defaults point at the provider sandbox that `make dev` starts beside the platform.
    nowpayments_api_url: str = "http://127.0.0.1:8090/nowpayments/v1"
    nowpayments_api_key: str | None = None
    coinbase_commerce_api_url: str = "http://127.0.0.1:8090/coinbase"
    coinbase_commerce_api_key: str | None = None
    # Base URL the providers reach us on; NOWPayments posts IPNs to <base>/v1/webhooks/nowpayments.
    public_base_url: str = "http://127.0.0.1:8000"
    # Which Coinbase Commerce status counts as paid: PENDING (detected, the current docs treat it
    # as paid) or COMPLETED (confirmed on chain).
    coinbase_paid_at: Literal["pending", "completed"] = "completed"
    # Whole-request timeout of one provider call; connect failures are retried within it.
    provider_timeout_s: float = Field(default=10.0, gt=0)
