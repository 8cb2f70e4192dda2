"""The published JSON Schema is generated from the model and kept up to date."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from segmint.segments.schema import definition_schema, schema_text
from segmint.segments.templates import BUILTIN_TEMPLATES

DOC = Path(__file__).parents[2] / "docs" / "segment.schema.json"


def test_committed_schema_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == schema_text(), (
        "docs/segment.schema.json is stale: run "
        "`segmint segment schema --output docs/segment.schema.json`"
    )


def test_schema_accepts_every_template_instance() -> None:
    validator = jsonschema.Draft202012Validator(definition_schema())
    for template in BUILTIN_TEMPLATES.values():
        validator.validate(template.instantiate("t").to_document())
    bad = {"name": "x", "include": {"type": "trait", "trait": "a", "op": "nope"}}
    assert not validator.is_valid(bad), "the schema accepted an unknown operator"
    assert json.loads(DOC.read_text())["$id"].endswith("segment.schema.json")
