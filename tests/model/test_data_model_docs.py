"""docs/data-model.md is generated from the table specs and must match them."""

from __future__ import annotations

from pathlib import Path

from segmint.model.docs import render_data_model
from segmint.model.tables import ALL_TABLES

DOC = Path(__file__).parents[2] / "docs" / "data-model.md"


def test_committed_data_model_doc_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == render_data_model(), (
        "docs/data-model.md is stale: run `segmint docs data-model`"
    )


def test_every_column_is_documented():
    text = render_data_model()
    for table in ALL_TABLES:
        assert f"## `{table.name}`" in text
        for column in table.all_columns:
            assert column.description, f"{table.name}.{column.name} has no description"
            assert f"| `{column.name}` |" in text


def test_keys_are_real_columns():
    for table in ALL_TABLES:
        names = {c.name for c in table.all_columns}
        assert set(table.key) <= names
        for group in table.one_of:
            assert set(group) <= names
