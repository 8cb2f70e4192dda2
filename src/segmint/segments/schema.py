"""The published JSON Schema of segment definitions (``docs/segment.schema.json``).

Generated from the pydantic models, so the schema a web builder or an editor validates against
is exactly what segmint accepts in shape; a test fails when the committed file is out of date
(regenerate with ``segmint segment schema --output docs/segment.schema.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from segmint.segments.model import SCHEMA_VERSION, SegmentDefinition

SCHEMA_ID = "https://segmint.dev/schemas/segment.schema.json"


def definition_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a segment definition document."""
    schema = SegmentDefinition.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"segmint segment definition (schema_version {SCHEMA_VERSION})",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def schema_text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(definition_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: str | Path) -> Path:
    target = Path(path)
    target.write_text(schema_text(), encoding="utf-8")
    return target
