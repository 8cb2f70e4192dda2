"""Renders ``docs/data-model.md`` from the table specs, so the documentation cannot drift."""

from __future__ import annotations

from segmint.model.tables import ALL_TABLES, ColumnType, Table

_TYPE_NOTES = {
    ColumnType.STRING: "text",
    ColumnType.EMAIL: "email (trimmed, lower-cased)",
    ColumnType.INTEGER: "integer",
    ColumnType.DOUBLE: "number",
    ColumnType.MONEY: "money (exact decimal, 4 places)",
    ColumnType.TIMESTAMP: "timestamp (UTC)",
    ColumnType.DATE: "date",
    ColumnType.BOOLEAN: "boolean",
    ColumnType.JSON: "JSON object",
}


def _rules(table: Table, name: str) -> str:
    col = table.column(name)
    rules = []
    if col.required:
        rules.append("required")
    if name in table.key:
        rules.append("key")
    if col.minimum is not None:
        rules.append(f"{'>' if col.exclusive_minimum else '≥'} {col.minimum:g}")
    if col.maximum is not None:
        rules.append(f"≤ {col.maximum:g}")
    if col.choices:
        rules.append("one of " + ", ".join(col.choices))
    return "; ".join(rules)


def render_data_model() -> str:
    """The Markdown text of docs/data-model.md."""
    lines = [
        "# Data model",
        "",
        "Generated from `src/segmint/model/tables.py` by `segmint docs data-model`; "
        "do not edit by hand.",
        "",
        "Every import lands in one of these canonical tables. A canonical CSV file has the "
        "table's column names as its header (any order; optional columns may be left out). "
        "Money is stored as an exact decimal; every timestamp is converted to UTC on import "
        "(a value without an offset is taken as UTC).",
        "",
    ]
    for table in ALL_TABLES:
        lines += [f"## `{table.name}`", "", table.description, ""]
        lines.append(f"Natural key: {', '.join(f'`{k}`' for k in table.key)}.")
        for group in table.one_of:
            lines.append("At least one of " + " or ".join(f"`{c}`" for c in group) + " is set.")
        lines += ["", "| column | type | rules | description |", "| --- | --- | --- | --- |"]
        for col in table.all_columns:
            lines.append(
                f"| `{col.name}` | {_TYPE_NOTES[col.type]} | {_rules(table, col.name)} "
                f"| {col.description} |"
            )
        lines.append("")
    return "\n".join(lines)
