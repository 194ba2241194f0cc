"""JSON Schema validation of every event, on publish and on consume.

Each schema is compiled once by fastjsonschema into a plain Python function, so validating an
event costs microseconds rather than a schema walk per message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import bwai_contracts
import fastjsonschema

from bwai_messaging.envelope import Event, dataschema_for
from bwai_messaging.errors import InvalidEvent

Validator = Callable[[Any], Any]

_EVENT_SCHEMA_FILE = re.compile(r"^(?P<type>[a-z0-9_.]+)\.v(?P<version>[1-9][0-9]*)\.json$")


class SchemaRegistry:
    """The envelope schema and one data schema per (event type, version)."""

    def __init__(
        self, envelope: Mapping[str, Any], data_schemas: Mapping[tuple[str, int], Mapping[str, Any]]
    ) -> None:
        self._envelope = _compile(envelope, "envelope")
        self._data = {key: _compile(schema, "data") for key, schema in data_schemas.items()}

    @classmethod
    @functools.cache
    def default(cls) -> SchemaRegistry:
        """Return the registry of every schema shipped in bwai_contracts, built once per process."""
        return cls.from_contracts()

    @classmethod
    def from_contracts(
        cls, extra: Mapping[tuple[str, int], Mapping[str, Any]] | None = None
    ) -> SchemaRegistry:
        """Load every schema from bwai_contracts, plus `extra` ones (tests add their own types)."""
        data_schemas: dict[tuple[str, int], Mapping[str, Any]] = {}
        for name in bwai_contracts.schema_files():
            match = _EVENT_SCHEMA_FILE.match(name)
            if match:
                key = (match["type"], int(match["version"]))
                data_schemas[key] = bwai_contracts.load_schema(name)
        data_schemas.update(extra or {})
        return cls(bwai_contracts.load_schema(bwai_contracts.ENVELOPE_SCHEMA), data_schemas)

    def known_types(self) -> list[tuple[str, int]]:
        return sorted(self._data)

    def validate(self, event: Event) -> None:
        """Check the envelope and the data; raise InvalidEvent with the reason when either fails."""
        _run(self._envelope, event.to_dict(), event)
        version = event.version
        if event.dataschema != dataschema_for(event.type, version):
            raise InvalidEvent(
                f"dataschema {event.dataschema!r} does not name event type {event.type!r}"
            )
        validator = self._data.get((event.type, version))
        if validator is None:
            raise InvalidEvent(f"no schema for event type {event.type!r} version {version}")
        _run(validator, event.data, event)

    def validate_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.validate(event)


def _compile(schema: Mapping[str, Any], name: str) -> Validator:
    # Schemas without `$schema` are read as draft-07, the draft every contract is written in.
    definition = {"$schema": "http://json-schema.org/draft-07/schema#", **schema}
    # use_default=False: validation must never fill defaults into the event it checks.
    # The handlers keep a `$ref` from fetching anything over the network.
    validate = fastjsonschema.compile(definition, handlers=_NO_REMOTE_REFS, use_default=False)

    def run(value: Any) -> Any:
        return validate(value, name_prefix=name)

    return run


def _reject_remote_ref(uri: str) -> Any:
    raise ValueError(f"remote $ref {uri!r} is not allowed: inline the definition instead")


_NO_REMOTE_REFS = {scheme: _reject_remote_ref for scheme in ("http", "https", "file", "ftp")}


def _run(validator: Validator, value: Any, event: Event) -> None:
    try:
        validator(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise InvalidEvent(f"{event.type} event {event.id}: {exc.message}") from None
