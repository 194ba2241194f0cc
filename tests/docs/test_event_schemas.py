"""Every schema in contracts/ is a well-formed draft-07 schema that documents each property.

The `jsonschema` package, which would check a schema against the draft-07 meta-schema, is not a
dependency. These checks cover the mistakes a hand-written schema makes instead. They catch an
unknown keyword (validators silently ignore a misspelt one), a wrong type name, a `required`
name with no property, a pattern that does not compile and a property without a description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import bwai_contracts
import fastjsonschema
import pytest

DRAFT_07 = "http://json-schema.org/draft-07/schema#"

# Every keyword of JSON Schema draft-07 (validation and annotation vocabularies).
DRAFT_07_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$ref", "$comment", "definitions", "title", "description", "default",
        "examples", "readOnly", "writeOnly", "type", "enum", "const", "multipleOf", "maximum",
        "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
        "items", "additionalItems", "maxItems", "minItems", "uniqueItems", "contains",
        "maxProperties", "minProperties", "required", "properties", "patternProperties",
        "additionalProperties", "dependencies", "propertyNames", "if", "then", "else", "allOf",
        "anyOf", "oneOf", "not", "format", "contentMediaType", "contentEncoding",
    }
)  # fmt: skip
DRAFT_07_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})

SCHEMA_FILES = bwai_contracts.schema_files()


def test_contracts_ship_schemas() -> None:
    assert bwai_contracts.ENVELOPE_SCHEMA in SCHEMA_FILES
    assert len(SCHEMA_FILES) > 1


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_declares_draft_07(name: str) -> None:
    assert bwai_contracts.load_schema(name)["$schema"] == DRAFT_07


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_compiles(name: str) -> None:
    fastjsonschema.compile(bwai_contracts.load_schema(name), use_default=False)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_uses_draft_07_keywords(name: str) -> None:
    for path, node in _schema_nodes(bwai_contracts.load_schema(name)):
        unknown = set(node) - DRAFT_07_KEYWORDS
        assert not unknown, f"{name} {path}: keywords not in draft-07: {sorted(unknown)}"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_type_names_are_draft_07(name: str) -> None:
    for path, node in _schema_nodes(bwai_contracts.load_schema(name)):
        types = node.get("type", [])
        names = [types] if isinstance(types, str) else types
        assert set(names) <= DRAFT_07_TYPES, f"{name} {path}: unknown type in {names}"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_required_names_are_properties(name: str) -> None:
    for path, node in _schema_nodes(bwai_contracts.load_schema(name)):
        missing = set(node.get("required", ())) - set(node.get("properties", {}))
        assert not missing, f"{name} {path}: required but not defined: {sorted(missing)}"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_patterns_compile(name: str) -> None:
    for _path, node in _schema_nodes(bwai_contracts.load_schema(name)):
        if "pattern" in node:
            re.compile(node["pattern"])


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_property_has_description(name: str) -> None:
    undescribed = [
        f"{path}.{prop}"
        for path, node in _schema_nodes(bwai_contracts.load_schema(name))
        for prop, spec in node.get("properties", {}).items()
        if not str(spec.get("description", "")).strip()
    ]

    assert not undescribed, f"{name}: properties without a description: {undescribed}"


@pytest.mark.parametrize("name", [n for n in SCHEMA_FILES if n != bwai_contracts.ENVELOPE_SCHEMA])
def test_event_schema_has_title_and_description(name: str) -> None:
    schema = bwai_contracts.load_schema(name)

    assert schema.get("title", "").strip()
    assert schema.get("description", "").strip()


def _schema_nodes(schema: dict[str, Any], path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield every subschema with its JSON path, the root first."""
    yield path, schema
    for keyword in ("properties", "patternProperties", "definitions"):
        for key, child in schema.get(keyword, {}).items():
            if isinstance(child, dict):
                yield from _schema_nodes(child, f"{path}.{keyword}.{key}")
    for keyword in ("items", "additionalItems", "additionalProperties", "contains", "not",
                    "propertyNames", "if", "then", "else"):  # fmt: skip
        child = schema.get(keyword)
        if isinstance(child, dict):
            yield from _schema_nodes(child, f"{path}.{keyword}")
    for keyword in ("allOf", "anyOf", "oneOf"):
        for index, child in enumerate(schema.get(keyword, [])):
            yield from _schema_nodes(child, f"{path}.{keyword}[{index}]")
