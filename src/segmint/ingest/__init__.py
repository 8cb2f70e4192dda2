"""Getting data in: CSV, Parquet and JSON Lines files, Shopify exports, mapped layouts.

The entry point is :func:`run_import` (what ``Workspace.import_file`` and ``segmint import``
call); see ``docs/importing.md`` for the file layouts it reads.
"""

from segmint.ingest.importer import run_import
from segmint.ingest.types import ImportRequest, ImportResult

__all__ = ["ImportRequest", "ImportResult", "run_import"]
