"""AMQP headers that carry a message's attempt count and dead-letter reason across queues."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from bwai_messaging.bus import DeadLetter

# CloudEvents AMQP binding, structured content mode.
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
ATTEMPTS_HEADER = "x-attempts"
REASON_HEADER = "x-death-reason"
DEAD_LETTERED_AT_HEADER = "x-dead-lettered-at"
LAST_ERROR_HEADER = "x-last-error"
# Enough of an error message to recognise it; the full text is in the consumer's log line.
MAX_ERROR_CHARS = 500

# Headers the broker adds when it dead-letters a message (TTL expiry, delivery limit). A copy we
# publish starts without them, so it is not mistaken for a broker dead letter.
_BROKER_HEADERS = ("x-death", "x-first-death-", "x-last-death-", "x-delivery-count")
_OWN_HEADERS = (REASON_HEADER, DEAD_LETTERED_AT_HEADER, LAST_ERROR_HEADER, ATTEMPTS_HEADER)


def redelivery_headers(
    headers: Mapping[str, Any], attempt: int, error: str | None
) -> dict[str, Any]:
    """Return the headers of a copy that will be delivered again as attempt `attempt`."""
    cleaned = _without_delivery_state(headers)
    cleaned[ATTEMPTS_HEADER] = attempt
    if error:
        cleaned[LAST_ERROR_HEADER] = error[:MAX_ERROR_CHARS]
    return cleaned


def dead_letter_headers(
    headers: Mapping[str, Any], reason: str, attempts: int, at: datetime
) -> dict[str, Any]:
    cleaned = _without_delivery_state(headers)
    cleaned[REASON_HEADER] = reason[:MAX_ERROR_CHARS]
    cleaned[ATTEMPTS_HEADER] = attempts
    cleaned[DEAD_LETTERED_AT_HEADER] = at.isoformat()
    return cleaned


def dead_letter_from_message(message: AbstractIncomingMessage, queue: str) -> DeadLetter:
    """Describe a DLQ message, whether we dead-lettered it or the broker did."""
    headers = message.headers
    broker_death = _first_death(headers)
    reason = headers.get(REASON_HEADER)
    if not isinstance(reason, str):
        reason = f"dead-lettered by the broker: {broker_death.get('reason', 'unknown')}"
    attempts = headers.get(ATTEMPTS_HEADER, 1)
    return DeadLetter(
        message_id=message.message_id or "",
        queue=queue,
        reason=reason,
        attempts=attempts if isinstance(attempts, int) else 1,
        dead_lettered_at=_dead_lettered_at(headers, broker_death),
        body=message.body,
    )


def _without_delivery_state(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in headers.items()
        if not name.startswith(_BROKER_HEADERS) and name not in _OWN_HEADERS
    }


def _first_death(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        return deaths[0]
    return {}


def _dead_lettered_at(headers: Mapping[str, Any], broker_death: Mapping[str, Any]) -> datetime:
    stamped = headers.get(DEAD_LETTERED_AT_HEADER)
    if isinstance(stamped, str):
        try:
            return datetime.fromisoformat(stamped)
        except ValueError:
            pass
    broker_time = broker_death.get("time")
    if isinstance(broker_time, datetime):
        return broker_time if broker_time.tzinfo else broker_time.replace(tzinfo=UTC)
    return datetime.now(UTC)
