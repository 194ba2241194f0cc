"""Provider adapters behind one interface, so the payment flow never depends on one provider."""

from __future__ import annotations

import httpx

from bwai_payments.errors import ProviderNotConfigured
from bwai_payments.providers.base import Checkout, CheckoutOrder, ProviderAdapter
from bwai_payments.providers.coinbase import CoinbaseCommerceAdapter
from bwai_payments.providers.nowpayments import NowPaymentsAdapter
from bwai_payments.settings import PaymentsSettings

PROVIDERS = ("nowpayments", "coinbase_commerce")


def build_adapters(
    settings: PaymentsSettings, client: httpx.AsyncClient
) -> dict[str, ProviderAdapter]:
    """Build an adapter for each provider whose API key is set."""
    adapters: dict[str, ProviderAdapter] = {}
    if settings.nowpayments_api_key:
        adapters["nowpayments"] = NowPaymentsAdapter(
            client,
            base_url=settings.nowpayments_api_url,
            api_key=settings.nowpayments_api_key,
            public_base_url=settings.public_base_url,
            timeout_s=settings.provider_timeout_s,
        )
    if settings.coinbase_commerce_api_key:
        adapters["coinbase_commerce"] = CoinbaseCommerceAdapter(
            client,
            base_url=settings.coinbase_commerce_api_url,
            api_key=settings.coinbase_commerce_api_key,
            timeout_s=settings.provider_timeout_s,
        )
    return adapters


def adapter_for(adapters: dict[str, ProviderAdapter], provider: str) -> ProviderAdapter:
    adapter = adapters.get(provider)
    if adapter is None:
        raise ProviderNotConfigured(
            f"provider {provider!r} has no API key configured; set its BWAI_*_API_KEY"
        )
    return adapter


__all__ = [
    "PROVIDERS",
    "Checkout",
    "CheckoutOrder",
    "ProviderAdapter",
    "adapter_for",
    "build_adapters",
]
