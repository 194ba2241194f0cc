"""Turn the raw bytes of a received message into a `ReceivedMessage`."""

from __future__ import annotations

import uuid
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from bwai_mailsink.store import ReceivedMessage


def parse_message(
    raw: bytes, *, mail_from: str, rcpt_tos: list[str], received_at: datetime
) -> ReceivedMessage:
    """Parse `raw` (the DATA of one SMTP transaction) with the envelope it arrived with."""
    message = message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    return ReceivedMessage(
        id=uuid.uuid4().hex,
        mail_from=mail_from,
        rcpt_tos=tuple(rcpt_tos),
        from_header=str(message.get("From", "")),
        to_header=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        message_id=_optional_header(message, "Message-ID"),
        text=_body(message, "plain"),
        html=_body(message, "html"),
        headers=tuple((name, str(value)) for name, value in message.items()),
        received_at=received_at,
        size_bytes=len(raw),
    )


def _optional_header(message: EmailMessage, name: str) -> str | None:
    value = message.get(name)
    return None if value is None else str(value)


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or not isinstance(part, EmailMessage):
        return None
    content = part.get_content()
    if not isinstance(content, str):
        return None
    # SMTP carries CRLF line endings; readers of the sink expect Python's "\n".
    return content.replace("\r\n", "\n")
