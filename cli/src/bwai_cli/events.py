"""`bwai events`: the event catalogue, docs/events.md, generated from the schemas in contracts/.

The catalogue is rendered from `bwai_contracts` alone, so it changes only when a schema changes.
tests/docs/test_event_catalogue.py fails while the committed page differs from a fresh render.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import bwai_contracts
import typer
from bwai_contracts.topology import consumers_of

# The first segment of an event type names the service that publishes it.
PRODUCERS = {"identity": "identity", "payments": "payments", "webhooks": "webhooks-ingest"}

# The services whose queue binds each event type. tests/docs checks this table against the
# consumers that the service definitions declare.

DEFAULT_OUTPUT = Path("docs/events.md")
REGENERATE_COMMAND = "bwai events catalogue"
SCHEMA_FOLDER = "contracts/src/bwai_contracts/events"
DATASCHEMA_PREFIX = "urn:bwai:schema:"

_EVENT_FILE = re.compile(r"^(?P<type>[a-z0-9_.]+)\.v(?P<version>[1-9][0-9]*)\.json$")
_UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_DECIMAL_PATTERNS = frozenset({r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$", r"^-?[0-9]+(\.[0-9]+)?$"})

events_app = typer.Typer(
    help="Event types and their catalogue (docs/events.md).", no_args_is_help=True
)


@dataclass(frozen=True, slots=True)
class EventSchema:
    """The data schema of one event type at one version, as shipped in bwai_contracts."""

    type: str
    version: int
    file_name: str
    schema: dict[str, Any]

    @property
    def dataschema(self) -> str:
        # The same URN that bwai_messaging.envelope.dataschema_for builds.
        return f"{DATASCHEMA_PREFIX}{self.type}:v{self.version}"

    @property
    def anchor(self) -> str:
        return f"{self.type}-v{self.version}"


def event_schemas() -> list[EventSchema]:
    """Load every event data schema, ordered by type and version."""
    found = []
    for name in bwai_contracts.schema_files():
        match = _EVENT_FILE.match(name)
        if match is None:
            continue
        schema = bwai_contracts.load_schema(name)
        found.append(EventSchema(match["type"], int(match["version"]), name, schema))
    return sorted(found, key=lambda event: (event.type, event.version))


def producer_of(event_type: str) -> str:
    """Return the service that publishes `event_type`, or raise ValueError for an unknown prefix."""
    prefix = event_type.split(".", 1)[0]
    if prefix not in PRODUCERS:
        known = ", ".join(sorted(PRODUCERS))
        raise ValueError(
            f"event type {event_type!r} has prefix {prefix!r}, which names no service "
            f"(known prefixes: {known}); add it to PRODUCERS in bwai_cli/events.py"
        )
    return PRODUCERS[prefix]


def render_catalogue() -> str:
    """Render docs/events.md: the envelope, then one section per event type and version."""
    events = event_schemas()
    envelope = bwai_contracts.load_schema(bwai_contracts.ENVELOPE_SCHEMA)
    lines = [
        "# Event catalogue",
        "",
        f"<!-- Generated from {SCHEMA_FOLDER}/ by `{REGENERATE_COMMAND}`. Do not edit by hand. -->",
        "",
        "Services publish these events on the RabbitMQ topic exchange `bwai.events`",
        "(`BWAI_AMQP_EXCHANGE`) through their outbox. Each event is validated against the envelope",
        "schema and its data schema when it is written to the outbox and again when a consumer",
        "receives it. A consumer dead-letters an invalid event instead of applying it.",
        "",
        "Publishing is mandatory: the broker returns an event that no queue is bound to. An event",
        'whose type no service consumes yet (consumers "none yet" below) counts as delivered; an',
        "event whose consumer's queue does not exist yet stays in its producer's outbox and is",
        "retried; see [the outbox backlog runbook](runbooks/outbox-backlog.md).",
        "",
        *_render_summary(events),
        *_render_envelope(envelope),
        "## Events",
        "",
    ]
    for event in events:
        lines.extend(_render_event(event))
    return "\n".join(lines).rstrip("\n") + "\n"


def _render_summary(events: list[EventSchema]) -> list[str]:
    lines = [
        "| Event type | Version | Producer | Consumers |",
        "|---|---|---|---|",
    ]
    for event in events:
        consumers = ", ".join(consumers_of(event.type)) or "none yet"
        link = f"[`{event.type}`](#{event.anchor})"
        lines.append(f"| {link} | {event.version} | {producer_of(event.type)} | {consumers} |")
    return [*lines, ""]


def _render_envelope(envelope: dict[str, Any]) -> list[str]:
    required = set(envelope.get("required", ()))
    lines = [
        "## Envelope",
        "",
        "Every event is a CloudEvents 1.0 event in structured JSON mode: the message body is one",
        "JSON object holding the attributes and `data`. On RabbitMQ the routing key is the event",
        "type, the AMQP `message_id` is the event id, the content type is",
        "`application/cloudevents+json; charset=utf-8`, messages are persistent, and the",
        "`traceparent` attribute is copied into a message header of the same name.",
        "",
        f"Schema: `{SCHEMA_FOLDER}/{bwai_contracts.ENVELOPE_SCHEMA}`. Attributes other than",
        "these are rejected.",
        "",
        "| Attribute | Type | Required | Description |",
        "|---|---|---|---|",
    ]
    for name, spec in envelope["properties"].items():
        lines.append(_field_row(name, spec, name in required))
    lines += [
        "",
        "A new version of an event type is a new schema file, `<type>.v<N>.json`, and the",
        "event's `dataschema` names the version its data follows. A consumer validates an event",
        "against that version and rejects a type or version it has no schema for.",
        "",
    ]
    return lines


def _render_event(event: EventSchema) -> list[str]:
    schema = event.schema
    producer = producer_of(event.type)
    consumers = ", ".join(f"{name} (queue `{name}`)" for name in consumers_of(event.type))
    extra_fields = "rejected" if schema.get("additionalProperties") is False else "allowed"
    lines = [
        f'<a id="{event.anchor}"></a>',
        "",
        f"### `{event.type}` v{event.version}",
        "",
        _text(f"**{schema.get('title', event.type)}.** {schema.get('description', '')}").rstrip(),
        "",
        "| | |",
        "|---|---|",
        f"| Producer | {producer} (`source`: `/services/{producer}`) |",
        f"| Consumers | {consumers or 'none yet'} |",
        f"| Routing key | `{event.type}` |",
        f"| `dataschema` | `{event.dataschema}` |",
        f"| Schema file | `{SCHEMA_FOLDER}/{event.file_name}` |",
        f"| Fields not listed below | {extra_fields} |",
        "",
        "| Field | Type | Required | Description |",
        "|---|---|---|---|",
    ]
    required = set(schema.get("required", ()))
    for name, spec in schema.get("properties", {}).items():
        lines.append(_field_row(name, spec, name in required))
    return [*lines, ""]


def _field_row(name: str, spec: dict[str, Any], required: bool) -> str:
    description = _cell(_text(spec.get("description", "")))
    required_text = "yes" if required else "no"
    return f"| `{name}` | {_cell(describe_type(spec))} | {required_text} | {description} |"


def describe_type(spec: dict[str, Any]) -> str:
    """Describe a property's schema in a few words, e.g. `string (UUID) or null`."""
    if "const" in spec:
        return f"constant `{spec['const']}`"
    if "enum" in spec:
        values = [_enum_value(value) for value in spec["enum"]]
        return "one of " + ", ".join(values)
    types = spec.get("type", "any")
    names = [types] if isinstance(types, str) else list(types)
    # "null" goes last so that the main type reads first: "string or null".
    names.sort(key=lambda name: name == "null")
    return " or ".join(_describe_one(name, spec) for name in names)


def _describe_one(type_name: str, spec: dict[str, Any]) -> str:
    qualifiers = _qualifiers(type_name, spec)
    return f"{type_name} ({', '.join(qualifiers)})" if qualifiers else type_name


def _qualifiers(type_name: str, spec: dict[str, Any]) -> list[str]:
    if type_name == "string":
        return _string_qualifiers(spec)
    if type_name in ("integer", "number") and "minimum" in spec:
        return [f"at least {spec['minimum']}"]
    return []


def _string_qualifiers(spec: dict[str, Any]) -> list[str]:
    qualifiers = []
    pattern = spec.get("pattern")
    if pattern == _UUID_PATTERN:
        qualifiers.append("UUID")
    elif pattern in _DECIMAL_PATTERNS:
        qualifiers.append("decimal")
    elif pattern is not None:
        qualifiers.append(f"pattern `{pattern}`")
    if "format" in spec:
        qualifiers.append(spec["format"])
    if "maxLength" in spec and pattern != _UUID_PATTERN:
        qualifiers.append(f"at most {spec['maxLength']} characters")
    return qualifiers


def _enum_value(value: Any) -> str:
    return "null" if value is None else f"`{value}`"


def _text(text: str) -> str:
    # Schema descriptions write placeholders such as <payment_id>, which Markdown would take
    # for HTML tags and hide.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    # A pipe ends a Markdown table cell even inside a code span, unless it is escaped.
    return text.replace("|", "\\|").replace("\n", " ")


@events_app.command("list")
def list_events() -> None:
    """Print each event type and version with its producer and consumers."""
    for event in event_schemas():
        consumers = ", ".join(consumers_of(event.type)) or "-"
        producer = producer_of(event.type)
        typer.echo(f"{event.type} v{event.version}  producer={producer}  consumers={consumers}")


@events_app.command("catalogue")
def write_catalogue(
    output: Annotated[
        Path,
        typer.Option(
            help="File to write, relative to the current folder (run it from the repository root)."
        ),
    ] = DEFAULT_OUTPUT,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; exit with status 1 when the file is out of date."
        ),
    ] = False,
) -> None:
    """Write the event catalogue generated from the schemas in contracts/."""
    rendered = render_catalogue()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != rendered:
            typer.echo(
                f"{output} is out of date with contracts/: run `{REGENERATE_COMMAND}`.", err=True
            )
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date.")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(rendered, encoding="utf-8")
    typer.echo(f"Wrote {output} ({len(event_schemas())} event schemas).")


if __name__ == "__main__":
    events_app()
