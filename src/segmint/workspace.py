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
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from segmint.config import CONFIG_FILE, EngineConfig, WorkspaceConfig, load_config, save_config
from segmint.console import Console, NullConsole
from segmint.engines.base import Engine
from segmint.errors import WorkspaceError
from segmint.ingest.types import ImportFormat, ImportRequest, ImportResult
from segmint.model.tables import ALL_TABLES, IMPORTABLE

if TYPE_CHECKING:
    from datetime import date, datetime

    from segmint.clv.service import CLVFit
    from segmint.identity import IdentityExplanation, IdentityResult
    from segmint.profiles import ExportResult, ProfileBuildResult, ProfileSummary, ProfileView
    from segmint.segments.service import SegmentService
    from segmint.warehouse import WarehouseSyncResult

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
        engine: EngineConfig | None = None,
        console: Console | None = None,
    ) -> Workspace:
        """Create a workspace: a config file and an empty warehouse with every table.

        ``engine`` picks where the warehouse lives (the embedded DuckDB file by default).
        """
        path = resolve_root(root)
        if (path / CONFIG_FILE).exists():
            raise WorkspaceError(f"{path} is already a segmint workspace")
        path.mkdir(parents=True, exist_ok=True)
        config = WorkspaceConfig(name=name or path.name, engine=engine or EngineConfig())
        ws = cls(path, config, console)
        try:
            ws.ensure_schema()
        except BaseException:
            ws.close()  # an engine that cannot be reached leaves no half-made workspace
            raise
        save_config(path, config)
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

    def now(self) -> datetime:
        """The workspace's "now" (UTC, naive): the configured clock, else the real time."""
        if self.config.clock is not None:
            clock = self.config.clock
            return clock.astimezone(UTC).replace(tzinfo=None) if clock.tzinfo else clock
        return datetime.now(UTC).replace(tzinfo=None)

    @property
    def engine(self) -> Engine:
        """The engine connection, opened on first use."""
        if self._engine is None:
            self._engine = self._connect()
        return self._engine

    def _connect(self) -> Engine:
        cfg = self.config.engine
        if cfg.kind == "postgres":
            from segmint.engines.postgres import PostgresEngine

            assert cfg.url is not None  # the config requires it
            return PostgresEngine(cfg.url, schema=cfg.schema_name)
        if cfg.kind == "spark":
            from segmint.engines.spark import SparkEngine

            warehouse = cfg.warehouse
            location = warehouse if "://" in warehouse else self.root / warehouse
            return SparkEngine(
                location,
                database=cfg.schema_name,
                master=cfg.master,
                connect_url=cfg.connect_url,
                conf=cfg.spark_conf,
            )
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

    # -- quarantine ----------------------------------------------------------------------------

    def quarantine_summary(self) -> list[dict[str, Any]]:
        """Imports that rejected rows, newest first: id, kind, file, rows read, rejected."""
        from segmint.ingest.quarantine import quarantine_summary

        return quarantine_summary(self.engine)

    def quarantined_rows(
        self, import_id: str | None = None, limit: int | None = 50
    ) -> tuple[str, list[dict[str, Any]]]:
        """Rejected rows of one import (default: the latest with any): row number, reason, raw."""
        from segmint.ingest.quarantine import quarantined_rows

        return quarantined_rows(self.engine, import_id, limit)

    # -- identity ------------------------------------------------------------------------------

    def build_identity(
        self, *, full: bool = False, as_of: datetime | None = None, prefix: str | None = None
    ) -> IdentityResult:
        """Resolve identities into profiles (see :func:`segmint.identity.build_identity`).

        An ``as_of`` build writes into tables prefixed ``asof_<date>_`` unless told otherwise.
        """
        from segmint.identity import build_identity
        from segmint.identity.build import as_of_prefix

        if prefix is None:
            prefix = as_of_prefix(as_of) if as_of is not None else ""
        return build_identity(
            self.engine,
            self.config.identity,
            full=full,
            as_of=as_of,
            prefix=prefix,
            console=self.console,
        )

    def explain_identity(self, identifier: str, *, prefix: str = "") -> IdentityExplanation:
        """The profile of an identifier or profile id: identifiers, links, merge history."""
        from segmint.identity import explain_identity

        return explain_identity(self.engine, identifier, self.config.identity, prefix=prefix)

    def guarded_identifiers(self, *, prefix: str = "") -> list[dict[str, Any]]:
        """Identifiers the over-merge guard holds back, with the reason."""
        from segmint.identity import guarded_identifiers

        return guarded_identifiers(self.engine, prefix=prefix)

    # -- segments ------------------------------------------------------------------------------

    @property
    def segments(self) -> SegmentService:
        """Segments of this workspace: ``create``, ``list_segments``, ``get``, ``preview``,
        ``run``, ``history``, ``explain``, ``sql``, ``export``, ``delete``, ``from_template``
        and the custom SQL templates (see :class:`segmint.segments.SegmentService`).

        >>> ws.segments.preview({"name": "vips", "include": {...}}).size   # doctest: +SKIP
        """
        from segmint.segments.service import SegmentService, workspace_as_of_builder

        service = self.__dict__.get("_segment_service")
        if service is None or service.engine is not self.engine:
            service = SegmentService(
                self.engine,
                build_as_of=workspace_as_of_builder(self.engine, self.config, self.console),
                console=self.console,
                clock=self.now,
            )
            self.__dict__["_segment_service"] = service
        return service

    def sync_warehouse(self, url: str, *, schema: str = "segmint") -> WarehouseSyncResult:
        """Copy profiles, segment definitions, members and their history into ``schema`` of
        the PostgreSQL database at ``url``; later syncs send only what changed (in one
        transaction). See :func:`segmint.warehouse.sync_warehouse` and docs/warehouse.md."""
        from segmint.warehouse import sync_warehouse

        return sync_warehouse(
            self.engine, url, schema=schema, workspace=self.config.name, console=self.console
        )

    # -- profiles ------------------------------------------------------------------------------

    def build_profiles(
        self,
        *,
        as_of: date | datetime | str | None = None,
        prefix: str | None = None,
        full_identity: bool = False,
    ) -> ProfileBuildResult:
        """Resolve identities, then build the profile tables, in one transaction.

        ``as_of`` (a past date or time) builds into tables prefixed ``asof_<date>_`` unless
        ``prefix`` says otherwise (see :func:`segmint.profiles.build_profiles`).
        """
        from segmint.profiles import build_profiles

        return build_profiles(
            self.engine,
            self.config,
            as_of=as_of,
            prefix=prefix,
            console=self.console,
            full_identity=full_identity,
        )

    def profile(self, key: str, *, prefix: str = "", timeline_limit: int = 50) -> ProfileView:
        """One person by email, phone, customer id, anonymous id or profile id."""
        from segmint.profiles import show_profile

        return show_profile(
            self.engine,
            key,
            identity_config=self.config.identity,
            prefix=prefix,
            timeline_limit=timeline_limit,
        )

    def profiles_summary(self, *, prefix: str = "") -> ProfileSummary:
        """Profiles, buyers, revenue, repeat rate, RFM segment and lifecycle stage counts."""
        from segmint.profiles import profile_summary

        return profile_summary(self.engine, prefix=prefix)

    def export_profiles(
        self,
        path: str | Path,
        *,
        format: str | None = None,
        table: str = "profiles",
        prefix: str = "",
    ) -> ExportResult:
        """Write profiles (or a long table: category_stats, email_stats) to CSV or Parquet."""
        from segmint.profiles import export_profiles

        return export_profiles(self.engine, path, format=format, table=table, prefix=prefix)

    # -- predicted lifetime value --------------------------------------------------------------

    def fit_clv(
        self,
        *,
        model: str | None = None,
        calibration_end: datetime | None = None,
        time_unit: str | None = None,
        holdout_days: int = 0,
    ) -> CLVFit:
        """Fit the CLV models on the orders, store the fit, and refresh the profiles' CLV traits.

        See :func:`segmint.clv.service.fit_clv` for the calibration and holdout periods.
        """
        from segmint.clv.service import fit_clv

        fit = fit_clv(
            self.engine,
            self.config.clv,
            now=self.now(),
            model=model,  # type: ignore[arg-type]
            calibration_end=calibration_end,
            time_unit=time_unit,  # type: ignore[arg-type]
            holdout_days=holdout_days,
            console=self.console,
        )
        self.refresh_clv_traits()
        return fit

    def clv_fit(self) -> CLVFit | None:
        """The latest CLV fit, or None before the first one."""
        from segmint.clv.service import current_fit

        return current_fit(self.engine)

    def refresh_clv_traits(self) -> bool:
        """Rewrite the current profiles' CLV traits from the latest fit (False: no profiles)."""
        from segmint.clv.traits import fill_clv_traits
        from segmint.profiles.catalogue import ExtensionContext

        if not self.engine.table_exists("profiles"):
            return False
        as_of = self.engine.fetch_value("SELECT max(as_of) FROM profiles")
        if as_of is None:
            return False
        with self.engine.transaction():
            fill_clv_traits(
                ExtensionContext(self.engine, self.config.profiles, "profiles", "", as_of)
            )
        return True

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
