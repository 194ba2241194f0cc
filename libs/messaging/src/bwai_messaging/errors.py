"""Exceptions that decide a message's fate: retry later, dead-letter now, or fail a publish."""

from __future__ import annotations


class MessagingError(Exception):
    """The root of this package's errors."""


class InvalidEvent(MessagingError):
    """An event that breaks the envelope or its data schema; it is dead-lettered, never retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(MessagingError):
    """A transient failure: the bus delivers the message again after a back-off delay."""


class RejectEvent(MessagingError):
    """A permanent failure: the bus dead-letters the message at once with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PublishFailed(MessagingError):
    """The broker did not confirm a publish: unroutable, negatively acknowledged or unreachable."""


class Unroutable(PublishFailed):
    """The broker returned a mandatory publish because no queue is bound to its routing key."""
