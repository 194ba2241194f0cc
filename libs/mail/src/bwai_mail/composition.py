"""Build the MIME message for an outgoing mail: text alone, or text and HTML as alternatives."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import TYPE_CHECKING

from bwai_mail.errors import OutgoingMailInvalid

if TYPE_CHECKING:
    from bwai_mail.smtp import OutgoingMail

# Headers the sender sets itself; a caller's value would contradict the envelope or the id.
RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "message-id", "date", "mime-version", "content-type"}
)


def new_message_id(from_address: str) -> str:
    """Return a new Message-ID in the sender's domain, such as `<...@shop.example>`."""
    _, address = parseaddr(from_address)
    domain = address.rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


def compose(mail: OutgoingMail, *, from_address: str, message_id: str) -> EmailMessage:
    """Return the message; with an HTML body it is multipart/alternative, text part first."""
    _check_address(mail.to)
    message = EmailMessage()
    try:
        message["From"] = from_address
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = message_id
        for name, value in (mail.headers or {}).items():
            _check_header_name(name)
            message[name] = value
    except ValueError as error:
        # The email package raises ValueError for a line break in a header value.
        raise OutgoingMailInvalid(f"Invalid header value: {error}") from error

    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def _check_address(to: str) -> None:
    _, address = parseaddr(to)
    if "\r" in to or "\n" in to or "@" not in address:
        raise OutgoingMailInvalid(f"Invalid recipient address {to!r}: expected local@domain")
    try:
        Address(addr_spec=address)
    except ValueError as error:
        raise OutgoingMailInvalid(f"Invalid recipient address {to!r}: {error}") from error


def _check_header_name(name: str) -> None:
    if name.lower() in RESERVED_HEADERS:
        raise OutgoingMailInvalid(f"Header {name!r} is set by the sender and cannot be overridden")
    if not name or any(ch in name for ch in ": \r\n\t"):
        raise OutgoingMailInvalid(f"Invalid header name {name!r}")
