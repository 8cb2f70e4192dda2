"""Helpers for the importer tests: write small files, read tables back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segmint import Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "imports"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` (dedented by the caller) exactly as given."""
    path.write_bytes(text.encode(encoding))
    return path


def query(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    return ws.engine.fetch_all(sql)


def quarantined(ws: Workspace, import_id: str) -> dict[int, str]:
    """Row number -> reason for one import."""
    return dict(
        query(
            ws,
            f"SELECT row_number, reason FROM quarantine WHERE import_id = '{import_id}' "
            "ORDER BY row_number",
        )
    )


def counts(ws: Workspace, *tables: str) -> dict[str, int]:
    return {t: ws.engine.count_rows(t) for t in tables}


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """The shared empty workspace fixture, under a shorter name."""
    return workspace
