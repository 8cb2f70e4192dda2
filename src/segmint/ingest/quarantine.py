"""Looking at rejected rows: what each import sent to quarantine, and why."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from segmint.engines.base import Engine
from segmint.errors import SegmintError
from segmint.model.tables import IMPORTS, QUARANTINE


def quarantine_summary(engine: Engine) -> list[dict[str, Any]]:
    """One entry per import that rejected rows, newest first, with its most common reason."""
    counts = (
        exp.select(
            "import_id",
            exp.alias_(exp.Count(this=exp.Star()), "rejected"),
            exp.alias_(exp.Min(this=exp.column("quarantined_at")), "at"),
        )
        .from_(QUARANTINE.name)
        .group_by("import_id")
    )
    query = (
        exp.select(
            "q.import_id",
            "i.kind",
            "i.file",
            "i.format",
            "i.rows_read",
            "q.rejected",
            "q.at",
        )
        .from_(counts.subquery("q"))
        .join(
            exp.to_table(IMPORTS.name).as_("i"),
            on=exp.EQ(
                this=exp.column("import_id", table="i"),
                expression=exp.column("import_id", table="q"),
            ),
            join_type="left",
        )
        .order_by(exp.Ordered(this=exp.column("at", table="q"), desc=True))
    )
    names = ["import_id", "kind", "file", "format", "rows_read", "rejected", "at"]
    return [dict(zip(names, row, strict=True)) for row in engine.fetch_all(query)]


def quarantined_rows(
    engine: Engine, import_id: str | None = None, limit: int | None = 50
) -> tuple[str, list[dict[str, Any]]]:
    """The rejected rows of one import (default: the latest that rejected any), by row number.

    Returns the import id and the rows (row_number, reason, raw).
    """
    if import_id is None:
        latest = engine.fetch_value(
            exp.select("import_id")
            .from_(QUARANTINE.name)
            .order_by(exp.Ordered(this=exp.column("quarantined_at"), desc=True))
            .limit(1)
        )
        if latest is None:
            raise SegmintError("no rows in quarantine: every imported row was accepted")
        import_id = str(latest)
    query = (
        exp.select("row_number", "reason", "raw")
        .from_(QUARANTINE.name)
        .where(exp.EQ(this=exp.column("import_id"), expression=exp.Literal.string(import_id)))
        .order_by("row_number")
    )
    if limit is not None:
        query = query.limit(limit)
    rows = [
        {"row_number": int(n), "reason": reason, "raw": raw}
        for n, reason, raw in engine.fetch_all(query)
    ]
    if not rows and not _import_exists(engine, import_id):
        raise SegmintError(f"no import {import_id!r}; `segmint quarantine list` shows them")
    return import_id, rows


def _import_exists(engine: Engine, import_id: str) -> bool:
    found = engine.fetch_value(
        exp.select(exp.Count(this=exp.Star()))
        .from_(IMPORTS.name)
        .where(exp.EQ(this=exp.column("import_id"), expression=exp.Literal.string(import_id)))
    )
    return bool(found)
