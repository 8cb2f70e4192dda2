"""The canonical data model."""

from segmint.model.tables import (
    ALL_TABLES,
    IMPORTABLE,
    Column,
    ColumnType,
    Table,
    table,
)

__all__ = ["ALL_TABLES", "IMPORTABLE", "Column", "ColumnType", "Table", "table"]
