"""The :class:`Workspace` facade: the one front door to segmint.

The CLI, the HTTP API and the scheduler are thin layers over this class. It owns the
configuration and the engine connection; the work itself is done by the pipeline modules
(``segmint.ingest``, ``segmint.identity``, ...), which take an engine and a console.

A DuckDB workspace file can be open read-write by one process at a time; services that share a
workspace go through one process that holds it (the API server), not one connection each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from segmint.config import CONFIG_FILE, WorkspaceConfig, load_config, save_config
from segmint.console import Console, NullConsole
from segmint.engines.base import Engine
from segmint.errors import WorkspaceError
from segmint.ingest.types import ImportFormat, ImportRequest, ImportResult
from segmint.model.tables import ALL_TABLES, IMPORTABLE

WORKSPACE_ENV = "SEGMINT_WORKSPACE"


@dataclass
class WorkspaceStatus:
    """Row counts per table and rejected rows per imported file."""

    root: str
    engine: str
    tables: dict[str, int]
    quarantine: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.root,
            "engine": self.engine,
            "tables": self.tables,
            "quarantine": self.quarantine,
        }


def resolve_root(root: str | Path | None) -> Path:
    """The workspace folder: the argument, else ``$SEGMINT_WORKSPACE``, else the current folder."""
    if root is None:
        root = os.environ.get(WORKSPACE_ENV) or "."
    return Path(root).expanduser().resolve()


class Workspace:
    """A store's data, configuration and results in one folder.

    >>> ws = Workspace.init("/tmp/my-store")            # doctest: +SKIP
    >>> ws.import_file("orders", "orders.csv").inserted  # doctest: +SKIP
    """

    def __init__(self, root: Path, config: WorkspaceConfig, console: Console | None = None):
        self.root = root
        self.config = config
        self.console: Console = console or NullConsole()
        self._engine: Engine | None = None

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        root: str | Path | None = None,
        *,
        name: str | None = None,
        console: Console | None = None,
    ) -> Workspace:
        """Create a workspace: a config file and an empty warehouse with every table."""
        path = resolve_root(root)
        if (path / CONFIG_FILE).exists():
            raise WorkspaceError(f"{path} is already a segmint workspace")
        path.mkdir(parents=True, exist_ok=True)
        config = WorkspaceConfig(name=name or path.name)
        save_config(path, config)
        ws = cls(path, config, console)
        ws.ensure_schema()
        return ws

    @classmethod
    def open(cls, root: str | Path | None = None, *, console: Console | None = None) -> Workspace:
        """Open an existing workspace (see :func:`resolve_root` for where it is looked for)."""
        path = resolve_root(root)
        if not (path / CONFIG_FILE).exists():
            raise WorkspaceError(
                f"{path} is not a segmint workspace (no {CONFIG_FILE}); "
                f"create one with `segmint init {path}` or set {WORKSPACE_ENV}"
            )
        ws = cls(path, load_config(path), console)
        ws.ensure_schema()
        return ws

    @property
    def engine(self) -> Engine:
        """The engine connection, opened on first use."""
        if self._engine is None:
            self._engine = self._connect()
        return self._engine

    def _connect(self) -> Engine:
        cfg = self.config.engine
        from segmint.engines.duckdb import DuckDBEngine

        return DuckDBEngine(
            self.root / cfg.database,
            memory_limit=cfg.memory_limit,
            threads=cfg.threads,
            temp_directory=self.root / "tmp",
        )

    def ensure_schema(self) -> None:
        """Create any canonical table that does not exist yet (safe to call repeatedly)."""
        for spec in ALL_TABLES:
            self.engine.create_table(spec, if_not_exists=True)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- data in -------------------------------------------------------------------------------

    def import_file(
        self,
        kind: str,
        path: str | Path,
        *,
        format: ImportFormat | None = None,
        mapping: str | Path | None = None,
        encoding: str = "utf-8",
        delimiter: str | None = None,
    ) -> ImportResult:
        """Import one file into a canonical table; rejected rows go to quarantine.

        Re-importing the same or an overlapping file upserts on the table's natural key.
        A file that cannot be read at all raises :class:`~segmint.errors.ImportFileError`
        and writes nothing.
        """
        from segmint.ingest.importer import run_import

        request = ImportRequest(
            kind=kind,
            path=Path(path),
            format=format,
            mapping=Path(mapping) if mapping else None,
            encoding=encoding,
            delimiter=delimiter,
        )
        return run_import(self.engine, request, self.console)

    # -- looking -------------------------------------------------------------------------------

    def status(self) -> WorkspaceStatus:
        """How many rows each table holds, and how many rows each file had rejected."""
        tables = {name: self.engine.count_rows(name) for name in IMPORTABLE}
        quarantine = [
            {"kind": kind, "file": file, "rejected": int(n), "import_id": import_id}
            for kind, file, import_id, n in self.engine.fetch_all(
                "SELECT kind, file, import_id, count(*) FROM quarantine "
                "GROUP BY kind, file, import_id ORDER BY min(quarantined_at)"
            )
        ]
        return WorkspaceStatus(str(self.root), self.engine.name, tables, quarantine)
