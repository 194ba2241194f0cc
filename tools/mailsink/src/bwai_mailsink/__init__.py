"""A local SMTP sink for development and tests, with the received mail as a page and as JSON."""

from bwai_mailsink.server import MailSink
from bwai_mailsink.store import MessageStore, ReceivedMessage
from bwai_mailsink.web import create_app

__all__ = ["MailSink", "MessageStore", "ReceivedMessage", "create_app"]
