"""The provider adapter interface and the HTTP rules every adapter follows.

Neither provider accepts an idempotency key when a checkout is created, so a create request is
retried only when it provably never reached the provider (the connection was never opened).
After an ambiguous failure (a timeout or a dropped connection once the request was sent, or a
5xx answer) the adapter first looks the checkout up by our reference and creates another one
only when the provider has none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

import aiohttp
import httpx
import structlog
from bwai_core import jsonutil
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bwai_payments.errors import ProviderRejected, ProviderResponseInvalid, ProviderUnavailable

log = structlog.get_logger()

# Attempts for a request that never left this machine; each failure costs one connect attempt.
CONNECT_ATTEMPTS = 3
RETRY_FIRST_DELAY_S = 0.05
RETRY_MAX_DELAY_S = 0.5


@dataclass(frozen=True, slots=True)
class CheckoutOrder:
    """What an adapter needs to know about the order it creates a checkout for."""

    id: UUID
    tenant_id: str
    amount: Decimal
    currency: str
    description: str | None
    success_url: str | None
    cancel_url: str | None


@dataclass(frozen=True, slots=True)
class Checkout:
    """A hosted checkout created at the provider."""

    provider: str
    checkout_id: str
    checkout_url: str
    reference: str
    pay_currency: str | None
    amount_due: Decimal | None
    expires_at: datetime | None


class ProviderAdapter(Protocol):
    name: str

    async def create_checkout(
        self, order: CheckoutOrder, payment_id: UUID, pay_currency: str | None
    ) -> Checkout:
        """Create a hosted checkout; raise ProviderUnavailable or ProviderRejected on failure."""
        ...

    async def find_checkout_by_reference(self, reference: str) -> Checkout | None:
        """Return the checkout created with our reference, or None when the provider has none."""
        ...


class AmbiguousFailure(Exception):
    """The request may have reached the provider; its outcome is unknown."""


def never_reached_provider(exc: BaseException) -> bool:
    """Tell whether a transport error proves that no byte of the request was sent.

    The httpx-aiohttp transport maps every aiohttp connection error, including a server that
    disconnected after reading the request, to httpx.ConnectTimeout; only the aiohttp cause tells
    a refused connection apart.
    """
    if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientError):
        return isinstance(cause, aiohttp.ClientConnectorError)
    return True


async def send(
    client: httpx.AsyncClient, provider: str, build: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response:
    """Send a request, retrying only connect failures; raise AmbiguousFailure otherwise.

    Returns the response for 2xx and 4xx answers; a 5xx answer is ambiguous.
    """
    try:
        response = await _send_with_connect_retries(build)
    except httpx.HTTPError as exc:
        if never_reached_provider(exc):
            log.warning("provider.request.unreachable", provider=provider, error=str(exc))
            raise ProviderUnavailable(f"{provider} could not be reached: {exc}") from exc
        raise AmbiguousFailure(f"{provider}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500:
        raise AmbiguousFailure(f"{provider} responded with status {response.status_code}")
    return response


async def _send_with_connect_retries(
    build: Callable[[], Awaitable[httpx.Response]],
) -> httpx.Response:
    # The first attempt runs without the retry machinery, which costs more than a local call.
    # Only a connect failure enters it, for the remaining attempts.
    try:
        return await build()
    except httpx.HTTPError as exc:
        if not never_reached_provider(exc) or CONNECT_ATTEMPTS < 2:
            raise
    # Back-off of 50 ms, then doubling up to 500 ms, counted from the first attempt.
    await asyncio.sleep(RETRY_FIRST_DELAY_S)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(never_reached_provider),
        stop=stop_after_attempt(CONNECT_ATTEMPTS - 1),
        wait=wait_exponential(multiplier=2 * RETRY_FIRST_DELAY_S, max=RETRY_MAX_DELAY_S),
        reraise=True,
    ):
        with attempt:
            return await build()
    raise AssertionError("tenacity returns or raises")  # pragma: no cover


def parse_json_object(response: httpx.Response, provider: str) -> dict[str, Any]:
    """Parse a provider body with every non-integer number as Decimal."""
    try:
        body = jsonutil.loads_decimal(response.content)
    except ValueError as exc:
        raise ProviderResponseInvalid(f"{provider} sent a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise ProviderResponseInvalid(f"{provider} sent a JSON body that is not an object")
    return body


def raise_rejected(response: httpx.Response, provider: str, message: str | None) -> None:
    log.warning("provider.request.rejected", provider=provider, status=response.status_code)
    raise ProviderRejected(
        f"{provider} rejected the request ({response.status_code}): {message or 'no message'}",
        provider_status=response.status_code,
    )


async def post_create(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    body: bytes,
    *,
    headers: dict[str, str],
    timeout_s: float,
    message_of: Callable[[dict[str, Any]], str | None],
) -> dict[str, Any]:
    """POST a checkout create and return its JSON object; a 4xx raises ProviderRejected.

    `message_of` reads the provider's error message from its error body.
    """
    response = await send(
        client,
        provider,
        lambda: client.post(url, content=body, headers=headers, timeout=timeout_s),
    )
    parsed = parse_json_object(response, provider)
    if response.status_code >= 400:
        raise_rejected(response, provider, message_of(parsed))
    return parsed


def to_decimal(value: Any) -> Decimal | None:
    """Read a provider amount sent as a string or a number; None when absent or invalid."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return None
    return None


def to_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
