"""The bus interface both transports implement, and the one place that decides a failure's fate.

A handler's exit decides what happens to a message: return -> ack; RetryLater or any other
exception -> delivered again after a back-off delay, up to `max_attempts`, then dead-lettered;
RejectEvent or InvalidEvent -> dead-lettered at once. CancelledError always propagates.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bwai_messaging.envelope import Event
from bwai_messaging.errors import InvalidEvent, RejectEvent


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of a message to a queue's handler; `attempt` counts from 1."""

    body: bytes
    message_id: str
    attempt: int
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message parked in a queue's dead-letter queue, with why and after how many attempts."""

    message_id: str
    queue: str
    reason: str
    attempts: int
    dead_lettered_at: datetime
    body: bytes


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing message is tried and how long to wait before each retry."""

    max_attempts: int = 5
    # Retry n waits delays_ms[n - 1] milliseconds. The last value repeats when retries outnumber it.
    delays_ms: tuple[int, ...] = (200, 1000, 5000, 20000)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not self.delays_ms or min(self.delays_ms) < 0:
            raise ValueError(f"delays_ms must be non-empty and non-negative, got {self.delays_ms}")

    def delay_ms(self, failed_attempt: int) -> int:
        """Return the wait before the attempt that follows `failed_attempt` (1-based)."""
        return self.delays_ms[min(failed_attempt, len(self.delays_ms)) - 1]

    @property
    def retry_levels(self) -> int:
        """The number of distinct delays in use (one TTL retry queue each on RabbitMQ)."""
        return min(self.max_attempts - 1, len(self.delays_ms))


Handler = Callable[[Delivery], Awaitable[None]]


class Bus(Protocol):
    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def is_ready(self) -> bool: ...

    async def publish(self, event: Event) -> None:
        """Publish with routing key `event.type` and wait for the broker's confirm.

        Raises PublishFailed when no queue is bound to the routing key, or the broker rejects or
        cannot take the message.
        """
        ...

    async def subscribe(
        self, queue: str, bindings: Sequence[str], handler: Handler, *, prefetch: int = 64
    ) -> None:
        """Declare a durable queue bound to each topic pattern and consume it with `handler`."""
        ...

    async def dead_letters(self, queue: str) -> list[DeadLetter]: ...

    async def replay_dead_letter(self, queue: str, message_id: str) -> bool:
        """Move one dead letter back into its queue as a first attempt; False if not found."""
        ...


@dataclass(frozen=True, slots=True)
class Retry:
    next_attempt: int
    delay_ms: int
    error: str


@dataclass(frozen=True, slots=True)
class DeadLetterNow:
    reason: str


Outcome = Retry | DeadLetterNow


def decide_failure(error: Exception, attempt: int, policy: RetryPolicy) -> Outcome:
    """Decide what a failed delivery becomes; both transports call this and nothing else."""
    if isinstance(error, RejectEvent):
        return DeadLetterNow(f"rejected: {error.reason}")
    if isinstance(error, InvalidEvent):
        return DeadLetterNow(f"invalid event: {error.reason}")
    described = describe_error(error)
    if attempt >= policy.max_attempts:
        return DeadLetterNow(f"failed after {attempt} attempts: {described}")
    return Retry(attempt + 1, policy.delay_ms(attempt), described)


def describe_error(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@functools.lru_cache(maxsize=4096)
def topic_matches(pattern: str, routing_key: str) -> bool:
    """Match an AMQP topic pattern: `*` is exactly one dot-separated word, `#` zero or more."""
    return _match_words(tuple(pattern.split(".")), tuple(routing_key.split(".")))


def _match_words(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match_words(rest, words[skip:]) for skip in range(len(words) + 1))
    if not words:
        return False
    return head in ("*", words[0]) and _match_words(rest, words[1:])
