"""Which service queues consume each event type: the bus topology as data.

The outbox relay reads it to tell an event nobody consumes yet (published to no queue, which is
expected) from an event whose consumer's queue is missing (held and retried until it exists).
A test checks this table against the consumers every service declares.
"""

from __future__ import annotations

CONSUMERS: dict[str, tuple[str, ...]] = {
    "webhooks.provider_event.received": ("payments",),
    "webhooks.payout_event.received": ("payments",),
}


def consumers_of(event_type: str) -> tuple[str, ...]:
    """Return the queues that consume `event_type`; empty when no service consumes it yet."""
    return CONSUMERS.get(event_type, ())
