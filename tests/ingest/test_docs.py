"""docs/importing.md documents every importable column, CLI option and mapping key."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmint.ingest.mapping import _PARSE_KEYS, _TOP_LEVEL
from segmint.model.tables import IMPORTABLE

DOC = (Path(__file__).resolve().parents[2] / "docs" / "importing.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", sorted(IMPORTABLE))
def test_every_column_of_every_kind_is_listed_in_table_order(kind: str):
    section = DOC.split(f"**{kind}**", 1)[1].split("```", 1)[0]
    # "Columns: `a, b, c`." possibly wrapped over several lines.
    listed_text = section.split("Columns:", 1)[1].split("`.", 1)[0]
    listed = [name.strip(" `\n") for name in listed_text.split(",")]
    assert listed == list(IMPORTABLE[kind].column_names)


def test_cli_options_and_mapping_keys_are_documented():
    for option in (
        "--format",
        "--mapping",
        "--encoding",
        "--delimiter",
        "--json",
        "--import-id",
        "--limit",
    ):
        assert option in DOC
    for key in _TOP_LEVEL | _PARSE_KEYS:
        assert f"{key}" in DOC
