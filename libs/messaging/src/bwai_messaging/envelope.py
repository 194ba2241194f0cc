"""The CloudEvents 1.0 envelope every event travels in, as structured-mode JSON.

Extension attributes carry the tenant, the correlation and causation ids and the W3C
`traceparent`, so one payment can be followed across services through the bus.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from bwai_core.clock import Clock
from bwai_core.ids import new_id_str
from bwai_core.jsonutil import dumps
from bwai_telemetry import active_traceparent

from bwai_messaging.errors import InvalidEvent

SPEC_VERSION = "1.0"
CONTENT_TYPE_JSON = "application/json"
DATASCHEMA_PREFIX = "urn:bwai:schema:"

# W3C Trace Context, version 00: version-traceid-parentid-flags in lower-case hex.
TRACEPARENT_PATTERN = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")

_REQUIRED_TEXT = ("id", "type", "source", "specversion", "time", "dataschema")
_OPTIONAL_TEXT = ("subject", "tenantid", "correlationid", "causationid", "traceparent")

_current_traceparent: ContextVar[str | None] = ContextVar("bwai_traceparent", default=None)


@dataclass(frozen=True, slots=True)
class Event:
    """One CloudEvent; `data` is JSON-ready (amounts already decimal strings)."""

    id: str
    type: str
    source: str
    time: datetime
    data: dict[str, Any]
    subject: str | None
    dataschema: str
    tenantid: str | None
    correlationid: str | None
    causationid: str | None
    traceparent: str | None
    specversion: str = SPEC_VERSION
    datacontenttype: str = CONTENT_TYPE_JSON

    @property
    def version(self) -> int:
        """The schema version named by `dataschema` (`urn:bwai:schema:<type>:v<N>`)."""
        _, _, suffix = self.dataschema.rpartition(":v")
        if not suffix.isdigit():
            raise InvalidEvent(f"dataschema {self.dataschema!r} does not end in ':v<N>'")
        return int(suffix)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready structured-mode object, without unset optional attributes."""
        document: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": _format_time(self.time),
            "datacontenttype": self.datacontenttype,
            "dataschema": self.dataschema,
        }
        for name in _OPTIONAL_TEXT:
            value = getattr(self, name)
            if value is not None:
                document[name] = value
        document["data"] = self.data
        return document

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict())

    @classmethod
    def from_bytes(cls, body: bytes) -> Event:
        """Parse a structured-mode CloudEvent; raise InvalidEvent naming the first problem."""
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(f"body is not JSON: {exc}") from None
        if not isinstance(document, dict):
            raise InvalidEvent("body is not a JSON object")
        return cls.from_dict(document)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Event:
        for name in _REQUIRED_TEXT:
            if not isinstance(document.get(name), str) or not document[name]:
                raise InvalidEvent(f"attribute {name!r} is missing or not a non-empty string")
        for name in _OPTIONAL_TEXT:
            if document.get(name) is not None and not isinstance(document[name], str):
                raise InvalidEvent(f"attribute {name!r} is not a string")
        data = document.get("data")
        if not isinstance(data, dict):
            raise InvalidEvent("attribute 'data' is missing or not a JSON object")
        return cls(
            id=document["id"],
            type=document["type"],
            source=document["source"],
            time=_parse_time(document["time"]),
            data=data,
            subject=document.get("subject"),
            dataschema=document["dataschema"],
            tenantid=document.get("tenantid"),
            correlationid=document.get("correlationid"),
            causationid=document.get("causationid"),
            traceparent=document.get("traceparent"),
            specversion=document["specversion"],
            datacontenttype=document.get("datacontenttype") or CONTENT_TYPE_JSON,
        )


def new_event(
    type: str,
    data: Mapping[str, Any],
    *,
    source: str,
    clock: Clock,
    subject: str | None = None,
    tenant_id: str | None = None,
    correlation_id: str | None = None,
    causation: Event | None = None,
    version: int = 1,
    traceparent: str | None = None,
) -> Event:
    """Build an event stamped with a new UUIDv7 id and the clock's time.

    An event caused by another one inherits its correlation id and traceparent unless they are
    given, except that the current span, when tracing is on, wins over the causation's
    traceparent. The correlation id otherwise defaults to the event's own id, and the
    traceparent to the current span, else the one bound in the current context, else a new trace.
    """
    event_id = new_id_str()
    if causation is not None:
        correlation_id = correlation_id or causation.correlationid or causation.id
        traceparent = traceparent or active_traceparent() or causation.traceparent
    return Event(
        id=event_id,
        type=type,
        source=source,
        time=clock.now().astimezone(UTC),
        data=dict(data),
        subject=subject,
        dataschema=dataschema_for(type, version),
        tenantid=tenant_id,
        correlationid=correlation_id or event_id,
        causationid=causation.id if causation is not None else None,
        traceparent=traceparent
        or active_traceparent()
        or _current_traceparent.get()
        or new_traceparent(),
    )


def dataschema_for(type: str, version: int) -> str:
    return f"{DATASCHEMA_PREFIX}{type}:v{version}"


def new_traceparent() -> str:
    """Return the traceparent of a new sampled trace with random trace and span ids."""
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def current_traceparent() -> str | None:
    return _current_traceparent.get()


def bind_traceparent(traceparent: str | None) -> Token[str | None]:
    """Bind the traceparent that new events in this context inherit; reset with the token."""
    return _current_traceparent.set(traceparent)


def reset_traceparent(token: Token[str | None]) -> None:
    _current_traceparent.reset(token)


@contextmanager
def traceparent_bound(traceparent: str | None) -> Iterator[None]:
    token = bind_traceparent(traceparent)
    try:
        yield
    finally:
        reset_traceparent(token)


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEvent(f"attribute 'time' is not an RFC 3339 timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise InvalidEvent(f"attribute 'time' has no UTC offset: {text!r}")
    return moment.astimezone(UTC)
