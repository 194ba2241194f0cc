"""Delivery records and the per-provider verifier and normaliser of webhooks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from bwai_providers import (
    ProviderEventData,
    VerifiedPayload,
    coinbase,
    normalise_coinbase_event,
    normalise_nowpayments_ipn,
    nowpayments,
)

from bwai_webhooks_ingest.settings import Provider

Outcome = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class ProviderWebhooks:
    """The signature header, verifier and normaliser of one provider's webhooks."""

    provider: Provider
    # Lower-case header name; request headers are looked up case-insensitively.
    signature_header: str
    verify: Callable[[bytes, str | None, Sequence[str]], VerifiedPayload]
    normalise: Callable[[Mapping[str, Any]], ProviderEventData]


NOWPAYMENTS = ProviderWebhooks(
    provider="nowpayments",
    signature_header=nowpayments.SIGNATURE_HEADER,
    verify=nowpayments.verify_ipn,
    normalise=normalise_nowpayments_ipn,
)
COINBASE_COMMERCE = ProviderWebhooks(
    provider="coinbase_commerce",
    signature_header=coinbase.SIGNATURE_HEADER,
    verify=coinbase.verify_webhook,
    normalise=normalise_coinbase_event,
)


@dataclass(frozen=True, slots=True)
class IncomingDelivery:
    """One webhook request as received, before anything is checked."""

    id: UUID
    provider: Provider
    received_at: datetime
    remote_addr: str | None
    headers: dict[str, str]
    signature: str | None
    # None when the body was over the size limit and was not kept.
    body: bytes | None
    body_size: int


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    delivery_id: UUID
    outcome: Outcome
    provider_event_id: str
