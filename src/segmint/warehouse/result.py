"""What a warehouse sync reports back: rows inserted, updated, deleted and unchanged per table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from segmint.errors import SegmintError


class WarehouseError(SegmintError):
    """The warehouse cannot be reached, refuses the sync, or is laid out incompatibly."""


@dataclass
class TableSync:
    """What one sync did to one table of the warehouse."""

    table: str
    source_rows: int = 0
    """Rows of the table in the workspace when the sync read it."""
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    added_columns: list[str] = field(default_factory=list)
    """Columns the sync added to the warehouse table (new traits)."""

    @property
    def unchanged(self) -> int:
        """Workspace rows the warehouse already held exactly as they are."""
        return max(self.source_rows - self.inserted - self.updated, 0)

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source_rows": self.source_rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "added_columns": list(self.added_columns),
        }


@dataclass
class WarehouseSyncResult:
    """One sync of a workspace into a warehouse schema."""

    sync_id: str
    target: str
    """The warehouse URL, with any password masked."""
    schema: str
    started_at: datetime
    finished_at: datetime | None = None
    seconds: float = 0.0
    tables: list[TableSync] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_written(self) -> int:
        """Rows inserted, updated or deleted over every synced table (the log excluded)."""
        return sum(t.written for t in self.tables)

    def table(self, name: str) -> TableSync:
        for table in self.tables:
            if table.table == name:
                return table
        raise KeyError(f"the sync has no table {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "sync_id": self.sync_id,
            "target": self.target,
            "schema": self.schema,
            "started_at": self.started_at.isoformat(sep=" "),
            "finished_at": self.finished_at.isoformat(sep=" ") if self.finished_at else None,
            "seconds": self.seconds,
            "rows_written": self.rows_written,
            "tables": [t.to_dict() for t in self.tables],
            "warnings": list(self.warnings),
        }
