"""Received messages kept in memory, newest last, with a bound so a long dev session stays small."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses
from typing import Any

DEFAULT_MAX_MESSAGES = 500


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message as the sink received it: the SMTP envelope plus the parsed content."""

    id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    from_header: str
    to_header: str
    subject: str
    message_id: str | None
    text: str | None
    html: str | None
    headers: tuple[tuple[str, str], ...]
    received_at: datetime
    size_bytes: int

    def recipients(self) -> set[str]:
        """Return every recipient address, lower case, from the envelope and the To header."""
        header_addresses = {address for _, address in getaddresses([self.to_header])}
        return {address.lower() for address in (*self.rcpt_tos, *header_addresses) if address}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "from": self.from_header,
            "to": self.to_header,
            "subject": self.subject,
            "message_id": self.message_id,
            "text": self.text,
            "html": self.html,
            "headers": [[name, value] for name, value in self.headers],
            "received_at": self.received_at.isoformat(),
            "size_bytes": self.size_bytes,
        }


class MessageStore:
    """A bounded list of received messages; the oldest is dropped once `max_messages` is reached."""

    def __init__(self, max_messages: int = DEFAULT_MAX_MESSAGES) -> None:
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, got {max_messages}")
        self._messages: deque[ReceivedMessage] = deque(maxlen=max_messages)
        self._changed = asyncio.Condition()

    async def add(self, message: ReceivedMessage) -> None:
        async with self._changed:
            self._messages.append(message)
            self._changed.notify_all()

    def list(self, *, to: str | None = None) -> list[ReceivedMessage]:
        """Return the messages newest first, only those addressed to `to` when it is given."""
        newest_first = list(reversed(self._messages))
        if to is None:
            return newest_first
        return [message for message in newest_first if to.lower() in message.recipients()]

    def get(self, message_id: str) -> ReceivedMessage | None:
        return next((message for message in self._messages if message.id == message_id), None)

    def clear(self) -> None:
        self._messages.clear()

    async def wait_for(
        self, predicate: Callable[[ReceivedMessage], bool], *, timeout_s: float = 5.0
    ) -> ReceivedMessage:
        """Return the newest message matching `predicate`, waiting for it up to `timeout_s`.

        Raises TimeoutError when no such message arrives in time.
        """
        async with asyncio.timeout(timeout_s), self._changed:
            while True:
                found = next((m for m in reversed(self._messages) if predicate(m)), None)
                if found is not None:
                    return found
                await self._changed.wait()
