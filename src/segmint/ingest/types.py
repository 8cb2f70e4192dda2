"""What an import is asked to do, and what it reports back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

#: File layouts an import understands. ``shopify-orders`` and ``shopify-customers`` are
#: Shopify's export CSVs; ``mapped`` is any CSV with a user-written column mapping file.
ImportFormat = Literal["csv", "parquet", "jsonl", "shopify-orders", "shopify-customers"]


@dataclass(frozen=True)
class ImportRequest:
    """One file to import into one canonical table."""

    kind: str
    """Canonical table name: customers, products, orders, order_lines, events, reviews, tickets."""
    path: Path
    format: ImportFormat | None = None
    """None: guessed from the file name (and, for CSV, from Shopify's header)."""
    mapping: Path | None = None
    """A TOML column mapping file for CSV layouts other than the canonical one."""
    encoding: str = "utf-8"
    delimiter: str | None = None


@dataclass
class ImportResult:
    """Counts of one import run. ``tables`` holds counts per table for multi-table formats."""

    import_id: str
    kind: str
    file: str
    format: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    unchanged: int = 0
    """Rows identical to what the table already held (a re-import): not written again."""
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantine: str = ""
    """Where the rejected rows are: a query a user can run (or a file path)."""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
