"""JSON Schemas of every event on the Build With AI bus.

`events/<type>.v<N>.json` contains the draft-07 schema of one event type's `data` at version N, and
`events/cloudevent.json` the schema of the envelope that carries every event.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

ENVELOPE_SCHEMA = "cloudevent.json"


def schema_files() -> list[str]:
    """Return the file names of every schema under `events/`, sorted."""
    folder = resources.files("bwai_contracts").joinpath("events")
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))


def load_schema(name: str) -> dict[str, Any]:
    """Parse one schema file of `events/` by name, e.g. `payments.order.created.v1.json`."""
    path = resources.files("bwai_contracts").joinpath("events").joinpath(name)
    text = path.read_text(encoding="utf-8")
    schema = json.loads(text)
    if not isinstance(schema, dict):
        raise ValueError(f"schema file {name!r} does not contain a JSON object")
    return schema
