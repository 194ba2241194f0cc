"""Webhook deliveries: the record of each webhook and the sender that posts it.

The sender never runs on a request's path: every send is an asyncio task owned by the sender
and cancelled when the app stops. Webhooks of one scenario go out one after another in the
planned order. A failed webhook is retried with exponential back-off in its own task, so a
receiver that is down does not hold back the webhooks behind it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from bwai_core.clock import Clock

from bwai_sandbox.models import Provider
from bwai_sandbox.settings import SandboxSettings

# httpx's own transport runs `import sniffio` on every request. Without sniffio installed, each
# failed import searches sys.path again, which doubled the cost of a webhook POST. Recording the
# absence once makes later imports fail at once, with the same outcome and no search.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

log = structlog.get_logger()

# Renders the body and headers of one attempt; Coinbase numbers its attempts inside the body.
RenderWebhook = Callable[[int], tuple[bytes, dict[str, str]]]

SCHEDULED = "scheduled"
DELIVERED = "delivered"
RETRYING = "retrying"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass(slots=True)
class Attempt:
    number: int
    at: datetime
    # None when no HTTP response came back (connection refused, timeout).
    status_code: int | None
    error: str | None


@dataclass(slots=True)
class Delivery:
    """One webhook the sandbox sends, with every attempt made so far."""

    id: str
    provider: Provider
    checkout_id: str
    event: str
    url: str | None
    render: RenderWebhook
    created_at: datetime
    payment_id: str | None = None
    # Position of the status in its scenario, before any reordering.
    sequence: int = 0
    # 0 for the original, 1 and up for the copies asked for with `duplicates`.
    copy: int = 0
    state: str = SCHEDULED
    skip_reason: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    last_body: bytes | None = None
    last_headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider.value,
            "checkout_id": self.checkout_id,
            "payment_id": self.payment_id,
            "event": self.event,
            "url": self.url,
            "sequence": self.sequence,
            "copy": self.copy,
            "state": self.state,
            "skip_reason": self.skip_reason,
            "created_at": self.created_at.isoformat(),
            "attempts": [
                {
                    "number": a.number,
                    "at": a.at.isoformat(),
                    "status_code": a.status_code,
                    "error": a.error,
                }
                for a in self.attempts
            ],
            "last_status_code": self.attempts[-1].status_code if self.attempts else None,
            "body": self.last_body.decode("utf-8") if self.last_body is not None else None,
            "headers": self.last_headers,
        }


class WebhookSender:
    """Posts deliveries in the background with bounded retries."""

    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def skip_reason(self, url: str | None) -> str | None:
        """Return why a webhook to `url` will not be sent, or None when it will."""
        if not url:
            return "no callback URL is configured"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"callback URL scheme {parts.scheme!r} is not http or https"
        if parts.hostname not in self._settings.webhook_allowed_hosts:
            return f"callback host {parts.hostname!r} is not in BWAI_SANDBOX_WEBHOOK_ALLOWED_HOSTS"
        return None

    def send_in_order(self, deliveries: Sequence[Delivery], *, delay_ms: int = 0) -> None:
        """Start sending `deliveries` one after another; returns at once."""
        self._spawn(self._send_sequence(list(deliveries), delay_ms))

    def resend(self, delivery: Delivery) -> None:
        """Send a delivery again, with a fresh round of retries; returns at once."""
        delivery.state = SCHEDULED
        self._spawn(self._send_sequence([delivery], 0))

    async def cancel_all(self) -> None:
        """Cancel every pending send and retry, and wait until they have stopped."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        await self.cancel_all()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _send_sequence(self, deliveries: Iterable[Delivery], delay_ms: int) -> None:
        for delivery in deliveries:
            if delivery.state == SKIPPED:
                continue
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            if not await self._attempt(delivery, retries_left=self._max_retries()):
                self._spawn(self._retry(delivery))

    async def _retry(self, delivery: Delivery) -> None:
        for retry in range(1, self._max_retries() + 1):
            await asyncio.sleep(self._backoff_ms(retry) / 1000)
            if await self._attempt(delivery, retries_left=self._max_retries() - retry):
                return

    async def _attempt(self, delivery: Delivery, *, retries_left: int) -> bool:
        assert delivery.url is not None
        number = len(delivery.attempts) + 1
        body, headers = delivery.render(number)
        delivery.last_body, delivery.last_headers = body, headers
        status_code, error = await self._post(delivery.url, body, headers)
        delivery.attempts.append(Attempt(number, self._clock.now(), status_code, error))

        delivered = status_code is not None and 200 <= status_code < 300
        if delivered:
            delivery.state = DELIVERED
        elif retries_left:
            delivery.state = RETRYING
        else:
            delivery.state = FAILED
        log.info(
            "sandbox.webhook.attempted",
            delivery_id=delivery.id,
            provider=delivery.provider.value,
            webhook_event=delivery.event,
            attempt=number,
            status_code=status_code,
            error=error,
            state=delivery.state,
        )
        return delivered

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        try:
            response = await self._http().post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    def _http(self) -> httpx.AsyncClient:
        # Created on first use, so an app driven without its lifespan can still send.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._settings.webhook_timeout_seconds)
        return self._client

    def _max_retries(self) -> int:
        return self._settings.webhook_max_attempts - 1

    def _backoff_ms(self, retry: int) -> int:
        initial = self._settings.webhook_retry_initial_ms
        delay: int = min(initial * 2 ** (retry - 1), self._settings.webhook_retry_max_ms)
        return delay

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sandbox.webhook.task_failed", exc_info=task.exception())
