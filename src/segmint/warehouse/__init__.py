"""Data ownership: copy a workspace's profiles and segments into a PostgreSQL schema you own.

>>> from segmint.warehouse import sync_warehouse               # doctest: +SKIP
>>> result = sync_warehouse(ws.engine, "postgresql://bi@db/shop")  # doctest: +SKIP
>>> result.table("profiles").inserted                           # doctest: +SKIP

``segmint warehouse sync URL`` runs it from the command line; ``docs/warehouse.md`` describes the
tables it writes and how the incremental sync works.
"""

from segmint.warehouse.result import TableSync, WarehouseError, WarehouseSyncResult
from segmint.warehouse.sync import DEFAULT_SCHEMA, SYNC_STATE, sync_warehouse

__all__ = [
    "DEFAULT_SCHEMA",
    "SYNC_STATE",
    "TableSync",
    "WarehouseError",
    "WarehouseSyncResult",
    "sync_warehouse",
]
