"""Where segments live: versioned definitions, runs, current members and every change.

Tables (created on first use, in the warehouse so the CLI, the API and the web builder share
them):

- ``segments``: one row per saved version of a definition (``name``, ``version``); the newest
  version not deleted is the current one. Saving an unchanged definition adds no version.
- ``segment_runs``: one row per run: when, as of when, with which version, how many members.
- ``segment_members``: the current members of each segment (the snapshot of its latest run),
  with their control-group flag.
- ``segment_changes``: who entered and who exited at each run. Replaying a segment's changes
  in run order gives its members after any run.
- ``segment_sql_templates``: custom SQL templates, versioned like segments.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from segmint.engines.base import Engine
from segmint.errors import SegmintError
from segmint.model.tables import Column, ColumnType, Table
from segmint.segments.model import SegmentDefinition
from segmint.segments.timeutil import utc_now

S, INT, T, B, J = (
    ColumnType.STRING,
    ColumnType.INTEGER,
    ColumnType.TIMESTAMP,
    ColumnType.BOOLEAN,
    ColumnType.JSON,
)


class SegmentNotFound(SegmintError):
    """No segment (or template) of that name."""


SEGMENTS = Table(
    name="segments",
    description="Segment definitions, one row per saved version.",
    key=("name", "version"),
    columns=(
        Column("name", S, "Segment name.", required=True),
        Column("version", INT, "1, 2, 3... per name.", required=True),
        Column("title", S, "Display name."),
        Column("purpose", S, "marketing or analysis."),
        Column("definition", J, "The definition document (JSON).", required=True),
        Column("created_at", T, "When this version was saved (UTC).", required=True),
        Column("deleted_at", T, "When the segment was deleted (UTC); NULL while it exists."),
    ),
)

SEGMENT_RUNS = Table(
    name="segment_runs",
    description="One row per segment run.",
    key=("run_id",),
    columns=(
        Column("run_id", S, "Run id.", required=True),
        Column("segment", S, "Segment name.", required=True),
        Column(
            "run_number", INT, "1, 2, 3... per segment, in the order runs happened.", required=True
        ),
        Column("version", INT, "Definition version the run used.", required=True),
        Column("as_of", T, "Evaluation time (UTC).", required=True),
        Column("started_at", T, "Start (UTC).", required=True),
        Column("finished_at", T, "End (UTC)."),
        Column("members", INT, "Members after the run (control group included)."),
        Column("entered", INT, "Profiles that entered."),
        Column("exited", INT, "Profiles that exited."),
        Column("holdout", INT, "Members in the control group."),
        Column("consent_excluded", INT, "Profiles left out because marketing must not reach them."),
    ),
)

SEGMENT_MEMBERS = Table(
    name="segment_members",
    description="Current members of each segment (its latest run).",
    key=("segment", "profile_id"),
    columns=(
        Column("segment", S, "Segment name.", required=True),
        Column("profile_id", S, "Member profile.", required=True),
        Column("holdout", B, "In the control group: kept out of syncs."),
        Column("entered_at", T, "Evaluation time of the run the profile entered in (UTC)."),
        Column("run_id", S, "The run that last confirmed the membership."),
    ),
)

SEGMENT_CHANGES = Table(
    name="segment_changes",
    description="Who entered and who exited a segment, run by run.",
    key=(),
    columns=(
        Column("segment", S, "Segment name.", required=True),
        Column("run_id", S, "The run.", required=True),
        Column("run_number", INT, "The run's number within the segment.", required=True),
        Column("profile_id", S, "The profile.", required=True),
        Column("change", S, "entered or exited.", required=True),
        Column("as_of", T, "Evaluation time of the run (UTC).", required=True),
    ),
)

SQL_TEMPLATES = Table(
    name="segment_sql_templates",
    description="Custom SQL templates, one row per saved version.",
    key=("name", "version"),
    columns=(
        Column("name", S, "Template name.", required=True),
        Column("version", INT, "1, 2, 3... per name.", required=True),
        Column("description", S, "What it selects, in plain words."),
        Column("dialect", S, "The SQL dialect it was written in.", required=True),
        Column("sql", S, "The SQL as written.", required=True),
        Column("parameters", J, "Declared parameters (JSON list).", required=True),
        Column("created_at", T, "When this version was saved (UTC).", required=True),
        Column("deleted_at", T, "When it was deleted (UTC)."),
    ),
)

STORE_TABLES = (SEGMENTS, SEGMENT_RUNS, SEGMENT_MEMBERS, SEGMENT_CHANGES, SQL_TEMPLATES)


@dataclass
class StoredSegment:
    """A saved version of a segment."""

    name: str
    version: int
    definition: SegmentDefinition
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "definition": self.definition.to_document(),
        }


@dataclass
class RunRecord:
    """One run of a segment."""

    run_id: str
    segment: str
    run_number: int
    version: int
    as_of: datetime
    started_at: datetime
    finished_at: datetime | None
    members: int
    entered: int
    exited: int
    holdout: int
    consent_excluded: int

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items()}


def _eq(column: str, value: Any) -> exp.Expr:
    return exp.EQ(this=exp.column(column, quoted=True), expression=_lit(value))


def _lit(value: Any) -> exp.Expr:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(
            exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP")
        )
    return exp.Literal.string(str(value))


def insert_row(engine: Engine, table: str, row: dict[str, Any]) -> None:
    """Insert one row of literals (bookkeeping rows only; members move in bulk as SQL)."""
    engine.execute(
        exp.insert(
            exp.values([tuple(_lit(v) for v in row.values())]),
            table,
            columns=list(row),
        )
    )


class SegmentStore:
    """Reads and writes the segment tables of one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        for spec in STORE_TABLES:
            engine.create_table(spec, if_not_exists=True)

    # -- definitions ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        rows = self.engine.fetch_all(
            exp.select("name")
            .from_(SEGMENTS.name)
            .where("deleted_at IS NULL")
            .group_by("name")
            .order_by("name")
        )
        return [str(r[0]) for r in rows]

    def get(self, name: str, version: int | None = None) -> StoredSegment | None:
        """The current (or a given) version; None when there is no such segment."""
        query = (
            exp.select("name", "version", "definition", "created_at")
            .from_(SEGMENTS.name)
            .where(_eq("name", name))
            .where("deleted_at IS NULL")
            .order_by("version DESC")
            .limit(1)
        )
        if version is not None:
            query = query.where(_eq("version", version))
        row = self.engine.fetch_one(query)
        if row is None:
            return None
        definition = SegmentDefinition.model_validate(json.loads(row[2]))
        return StoredSegment(str(row[0]), int(row[1]), definition, row[3])

    def require(self, name: str, version: int | None = None) -> StoredSegment:
        found = self.get(name, version)
        if found is None:
            known = self.names()
            from segmint.segments.catalogue import nearest

            guess = nearest(name, known)
            hint = f"; did you mean {guess!r}?" if guess else ""
            which = f"version {version} of segment {name!r}" if version else f"segment {name!r}"
            raise SegmentNotFound(f"no {which}{hint}")
        return found

    def versions(self, name: str) -> list[StoredSegment]:
        rows = self.engine.fetch_all(
            exp.select("name", "version", "definition", "created_at")
            .from_(SEGMENTS.name)
            .where(_eq("name", name))
            .where("deleted_at IS NULL")
            .order_by("version")
        )
        return [
            StoredSegment(
                str(r[0]), int(r[1]), SegmentDefinition.model_validate(json.loads(r[2])), r[3]
            )
            for r in rows
        ]

    def save(self, definition: SegmentDefinition) -> StoredSegment:
        """Save a definition as the segment's next version (unless it is unchanged)."""
        current = self.get(definition.name)
        document = definition.to_document()
        if current is not None and current.definition.to_document() == document:
            return current
        version = (
            int(
                self.engine.fetch_value(
                    exp.select("coalesce(max(version), 0)")
                    .from_(SEGMENTS.name)
                    .where(_eq("name", definition.name))
                )
            )
            + 1
        )
        now = utc_now()
        insert_row(
            self.engine,
            SEGMENTS.name,
            {
                "name": definition.name,
                "version": version,
                "title": definition.title,
                "purpose": definition.purpose,
                "definition": json.dumps(document, sort_keys=True),
                "created_at": now,
            },
        )
        return StoredSegment(definition.name, version, definition, now)

    def delete(self, name: str) -> None:
        """Mark every version deleted and drop the current members; runs and changes stay."""
        with self.engine.transaction():
            self.engine.execute(
                exp.update(SEGMENTS.name, {"deleted_at": _lit(utc_now())}).where(
                    exp.and_(_eq("name", name), exp.condition("deleted_at IS NULL"))
                )
            )
            self.engine.execute(exp.delete(SEGMENT_MEMBERS.name).where(_eq("segment", name)))

    # -- runs ----------------------------------------------------------------------------------

    def runs(self, name: str) -> list[RunRecord]:
        rows = self.engine.fetch_all(
            exp.select(*(c.name for c in SEGMENT_RUNS.columns))
            .from_(SEGMENT_RUNS.name)
            .where(_eq("segment", name))
            .order_by("run_number")
        )
        return [
            RunRecord(
                run_id=r[0],
                segment=r[1],
                run_number=int(r[2]),
                version=int(r[3]),
                as_of=r[4],
                started_at=r[5],
                finished_at=r[6],
                members=int(r[7] or 0),
                entered=int(r[8] or 0),
                exited=int(r[9] or 0),
                holdout=int(r[10] or 0),
                consent_excluded=int(r[11] or 0),
            )
            for r in rows
        ]

    def last_run(self, name: str) -> RunRecord | None:
        runs = self.runs(name)
        return runs[-1] if runs else None

    def record_run(
        self,
        segment: StoredSegment,
        candidates: str,
        *,
        as_of: datetime,
        started_at: datetime,
        consent_excluded: int,
    ) -> RunRecord:
        """Replace a segment's members with ``candidates`` and record who entered and exited.

        ``candidates`` is a table of (profile_id, holdout). Everything happens in one
        transaction: a failed run leaves the previous members and history as they were.
        """
        name, run_id = segment.name, uuid.uuid4().hex
        run_number = 1 + int(
            self.engine.fetch_value(
                exp.select("coalesce(max(run_number), 0)")
                .from_(SEGMENT_RUNS.name)
                .where(_eq("segment", name))
            )
        )
        members = exp.select("profile_id").from_(SEGMENT_MEMBERS.name).where(_eq("segment", name))
        entered = exp.select("profile_id").from_(candidates).except_(members)
        exited = members.copy().except_(exp.select("profile_id").from_(candidates))
        with self.engine.transaction():
            for change, query in (("entered", entered), ("exited", exited)):
                self.engine.execute(
                    exp.insert(
                        exp.select(
                            _lit(name),
                            _lit(run_id),
                            _lit(run_number),
                            exp.column("profile_id"),
                            _lit(change),
                            _lit(as_of),
                        ).from_(
                            exp.Subquery(
                                this=query, alias=exp.TableAlias(this=exp.to_identifier("c"))
                            )
                        ),
                        SEGMENT_CHANGES.name,
                        columns=[
                            "segment",
                            "run_id",
                            "run_number",
                            "profile_id",
                            "change",
                            "as_of",
                        ],
                    )
                )
            n_entered, n_exited = (
                int(
                    self.engine.fetch_value(
                        exp.select("count(*)")
                        .from_(SEGMENT_CHANGES.name)
                        .where(_eq("run_id", run_id))
                        .where(_eq("change", change))
                    )
                )
                for change in ("entered", "exited")
            )
            # Members who stay keep the time they entered; new ones enter at this run.
            previous = exp.Subquery(
                this=exp.select("profile_id", "entered_at")
                .from_(SEGMENT_MEMBERS.name)
                .where(_eq("segment", name)),
                alias=exp.TableAlias(this=exp.to_identifier("prev")),
            )
            refreshed = (
                exp.select(
                    exp.alias_(_lit(name), "segment"),
                    exp.column("profile_id", "c"),
                    exp.column("holdout", "c"),
                    exp.alias_(
                        exp.func("COALESCE", exp.column("entered_at", "prev"), _lit(as_of)),
                        "entered_at",
                    ),
                    exp.alias_(_lit(run_id), "run_id"),
                )
                .from_(exp.to_table(candidates).as_("c"))
                .join(previous, on="prev.profile_id = c.profile_id", join_type="left")
            )
            self.engine.execute(
                exp.Create(
                    this=exp.to_table("_segment_refreshed"),
                    kind="TABLE",
                    replace=True,
                    expression=refreshed,
                    properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
                )
            )
            self.engine.execute(exp.delete(SEGMENT_MEMBERS.name).where(_eq("segment", name)))
            self.engine.execute(
                exp.insert(
                    exp.select("*").from_("_segment_refreshed"),
                    SEGMENT_MEMBERS.name,
                    columns=["segment", "profile_id", "holdout", "entered_at", "run_id"],
                )
            )
            self.engine.drop_table("_segment_refreshed")
            size, holdout = self.engine.fetch_one(
                exp.select("count(*)", "count(*) FILTER (WHERE holdout)")
                .from_(SEGMENT_MEMBERS.name)
                .where(_eq("segment", name))
            ) or (0, 0)
            record = RunRecord(
                run_id=run_id,
                segment=name,
                run_number=run_number,
                version=segment.version,
                as_of=as_of,
                started_at=started_at,
                finished_at=utc_now(),
                members=int(size),
                entered=n_entered,
                exited=n_exited,
                holdout=int(holdout or 0),
                consent_excluded=consent_excluded,
            )
            insert_row(
                self.engine,
                SEGMENT_RUNS.name,
                record.to_dict()
                | {"as_of": as_of, "started_at": started_at, "finished_at": record.finished_at},
            )
        return record

    def changes(
        self, name: str, run_id: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        query = (
            exp.select("run_id", "run_number", "profile_id", "change", "as_of")
            .from_(SEGMENT_CHANGES.name)
            .where(_eq("segment", name))
            .order_by("run_number", "change", "profile_id")
        )
        if run_id:
            query = query.where(_eq("run_id", run_id))
        if limit:
            query = query.limit(limit)
        return [
            {"run_id": r[0], "run_number": r[1], "profile_id": r[2], "change": r[3], "as_of": r[4]}
            for r in self.engine.fetch_all(query)
        ]

    def member_table_query(self, name: str, *, include_holdout: bool = True) -> exp.Select:
        """The current members of a segment as a query of (profile_id, holdout, entered_at)."""
        query = (
            exp.select("profile_id", "holdout", "entered_at")
            .from_(SEGMENT_MEMBERS.name)
            .where(_eq("segment", name))
        )
        if not include_holdout:
            query = query.where("NOT holdout")
        return query
