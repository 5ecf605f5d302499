"""Every published JSON Schema documents itself: each property of each schema in
/openapi.json's components, and of each kind's schema (`convsolve schema KIND`,
GET /v1/schema/{kind}), has a description; an enum's description names every member,
whether the enum is a schema of its own or inlined in a property; and every example
a property gives is valid for it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from api.main import app
from solver.contract import DOCUMENTS, json_schema
from solver.contract.glossary import RULES
from solver.rules import Rule

SOURCES = ["openapi", *DOCUMENTS]


def _published(source: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The whole document, and its schemas by name (a kind's: the root and its $defs)."""
    if source == "openapi":
        spec = TestClient(app).get("/openapi.json").json()
        return spec, spec["components"]["schemas"]
    schema = json_schema(source)
    return schema, {source: schema, **schema.get("$defs", {})}


def _properties(schemas: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, schema in schemas.items():
        for field, prop in schema.get("properties", {}).items():
            yield f"{name}.{field}", prop


def _members(schema: Any) -> list[Any]:
    """The enum members and consts written inside a schema (not behind a $ref)."""
    if isinstance(schema, list):
        return [m for item in schema for m in _members(item)]
    if not isinstance(schema, dict):
        return []
    found = list(schema.get("enum", [])) + ([schema["const"]] if "const" in schema else [])
    return found + [m for key, value in schema.items()
                    if key not in ("enum", "const", "examples", "default", "description") for m in _members(value)]


def _mentions(text: str, member: Any) -> bool:
    """Whether a description names a member as a word ("same" is not in "same_upper")."""
    word = member if isinstance(member, str) else str(member).lower()
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


@pytest.mark.parametrize("source", SOURCES)
def test_every_property_has_a_description(source: str) -> None:
    _, schemas = _published(source)
    bare = [where for where, prop in _properties(schemas) if not str(prop.get("description", "")).strip()]
    assert bare == [], f"{source}: properties without a description: {bare}"


@pytest.mark.parametrize("source", SOURCES)
def test_every_enum_names_its_members(source: str) -> None:
    _, schemas = _published(source)
    unnamed = []
    for name, schema in schemas.items():
        if "enum" in schema:  # an enum of its own (Goal, Status, LayerType)
            unnamed += [f"{name}: {m}" for m in schema["enum"] if not _mentions(schema.get("description", ""), m)]
    for where, prop in _properties(schemas):  # a Literal inlined in a field
        unnamed += [f"{where}: {m}" for m in dict.fromkeys(_members(prop))
                    if not _mentions(prop.get("description", ""), m)]
    assert unnamed == [], f"{source}: enum members their description does not name: {unnamed}"


@pytest.mark.parametrize("source", SOURCES)
def test_every_example_is_valid(source: str) -> None:
    whole, schemas = _published(source)
    refs = {"components": whole["components"]} if source == "openapi" else {"$defs": whole.get("$defs", {})}
    checked = 0
    for where, prop in _properties(schemas):
        validator = jsonschema.Draft202012Validator({**prop, **refs})
        for example in prop.get("examples", []):
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], f"{source}: {where}: example {example!r}: {errors}"
            checked += 1
    assert checked


def test_a_conflict_names_every_rule() -> None:
    """The rules are not an enum of the schema (a conflict's rule may be the search's own):
    Conflict.rule's description says what each one means."""
    assert set(RULES) == set(Rule)
    _, schemas = _published("openapi")
    text = schemas["Conflict"]["properties"]["rule"]["description"]
    assert [rule.value for rule in Rule if not _mentions(text, rule.value)] == []
