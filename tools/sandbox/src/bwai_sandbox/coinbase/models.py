"""Coinbase Commerce charges as the sandbox stores them (API version 2018-03-22, legacy shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

API_VERSION = "2018-03-22"

# Networks a legacy charge quotes, with the sandbox asset and the currency code Coinbase prints.
NETWORKS: dict[str, tuple[str, str]] = {
    "bitcoin": ("btc", "BTC"),
    "ethereum": ("eth", "ETH"),
    "litecoin": ("ltc", "LTC"),
    "bitcoincash": ("bch", "BCH"),
    "usdc": ("usdc", "USDC"),
}


@dataclass(slots=True)
class Charge:
    id: str
    code: str
    name: str
    pricing_type: str
    created_at: datetime
    expires_at: datetime
    description: str | None = None
    # None for `no_price` charges, where the customer chooses the amount.
    local_amount: Decimal | None = None
    local_currency: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    redirect_url: str | None = None
    cancel_url: str | None = None
    confirmed_at: datetime | None = None
    # Crypto price per network, as Decimal.
    quotes: dict[str, Decimal] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.timeline[-1]["status"])
