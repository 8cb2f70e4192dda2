"""Segments as a service: save, preview, run, look back, export — the one API the CLI, the
HTTP API and the web builder share (through :class:`~segmint.workspace.Workspace`).

Evaluation runs entirely in the engine: a definition compiles to one query, its members are
materialised into a temporary table, and sizes, revenue, overlaps and run changes are computed
from it with SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlglot import exp

from segmint.console import Console, NullConsole
from segmint.engines.base import Engine, create_table_as
from segmint.errors import SegmintError
from segmint.segments.catalogue import SPEC_EVENTS, Catalogue, TraitInfo, traits_from_specs
from segmint.segments.compiler import (
    PROFILE_ID,
    CompileContext,
    SegmentCompiler,
    SourceTables,
    col,
)
from segmint.segments.custom_sql import (
    CustomSqlTemplate,
    SqlParameter,
    SqlTemplateStore,
)
from segmint.segments.explain import Explanation, SegmentExplainer
from segmint.segments.export import write_members
from segmint.segments.keyed import KeyedRecords
from segmint.segments.model import (
    SegmentDefinition,
    SegmentMembershipCondition,
    SqlTemplateCondition,
    definition_conditions,
)
from segmint.segments.store import (
    SEGMENT_MEMBERS,
    RunRecord,
    SegmentNotFound,
    SegmentStore,
    StoredSegment,
)
from segmint.segments.templates import get_template
from segmint.segments.timeutil import utc_now
from segmint.segments.validation import Checker

HOLDOUT_BUCKETS = 10_000
SAMPLE_TRAITS = (
    "email",
    "first_name",
    "last_name",
    "order_count",
    "total_spend",
    "last_order_at",
    "rfm_segment",
    "lifecycle_stage",
)
REVENUE_TRAIT = "total_spend"
_MEMBERS_TMP = "_segment_eval"

#: (kind, prefix) → a query of (record key, profile_id); identity's ``resolved_records``.
PrefixedResolver = Callable[[str, str], exp.Query]
#: Builds profiles as of a time into tables with the given prefix.
AsOfBuilder = Callable[[datetime, str], None]


class SegmentError(SegmintError):
    """A segment operation that cannot be done as asked."""


@dataclass
class Preview:
    """What a definition selects, without saving anything."""

    segment: str
    as_of: datetime
    size: int
    profiles: int
    share_of_profiles: float | None
    revenue: float | None
    share_of_revenue: float | None
    sample: list[dict[str, Any]]
    overlap: list[dict[str, Any]]
    purpose: str
    consent_excluded: int
    """Marketing segments: people who matched but are left out (opted out, unsubscribed)."""
    opted_out_included: int
    """Analysis segments: members marketing must not reach (kept, as the purpose allows)."""
    holdout: int

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items()}
        data["as_of"] = self.as_of.isoformat(sep=" ")
        return data


@dataclass
class History:
    """A segment's runs (size over time) and the changes of each."""

    segment: str
    runs: list[RunRecord]
    changes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "runs": [r.to_dict() for r in self.runs],
            "changes": [
                {**c, "as_of": c["as_of"].isoformat(sep=" ") if c["as_of"] else None}
                for c in self.changes
            ],
        }


def default_traits() -> list[TraitInfo]:
    """The profile module's trait catalogue, as segments see it."""
    from segmint.profiles.catalogue import profile_traits

    return traits_from_specs(profile_traits())


def default_resolver(kind: str, prefix: str) -> exp.Query:
    from segmint.identity import resolved_records

    return resolved_records(kind, prefix=prefix)


def normalize_as_of(as_of: datetime | date | str) -> datetime:
    """An evaluation time as the profile build reads it (a date means the end of that day)."""
    from segmint.profiles.build import normalize_as_of as profiles_as_of

    return profiles_as_of(as_of)


def as_of_prefix(as_of: datetime) -> str:
    """Table prefix of profiles built as of a time (the profile build's own default)."""
    from segmint.profiles.build import default_prefix

    return default_prefix(as_of)


def workspace_as_of_builder(engine: Engine, config: Any, console: Console) -> AsOfBuilder:
    """Builds profiles (and identities) as of a time into prefixed tables of a workspace."""

    def build(as_of: datetime, prefix: str) -> None:
        from segmint.profiles.build import build_profiles

        build_profiles(engine, config, as_of=as_of, prefix=prefix, console=console)

    return build


class SegmentService:
    """Segments of one warehouse (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        *,
        traits: Callable[[], list[TraitInfo]] = default_traits,
        resolver: PrefixedResolver = default_resolver,
        build_as_of: AsOfBuilder | None = None,
        console: Console | None = None,
        materialize: bool = True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self._clock = clock
        """The evaluation time when none is given: the workspace's clock."""
        self.keyed = KeyedRecords(engine, resolver)
        self.materialize = materialize
        """Read events and orders from the materialised tables of :mod:`~.keyed` (fast) rather
        than joining them with identity resolution in every query."""
        self.store = SegmentStore(engine)
        self.sql_templates = SqlTemplateStore(engine)
        self._traits = traits
        self._resolver = resolver
        self._build_as_of = build_as_of
        self.console: Console = console or NullConsole()
        self._catalogue: Catalogue | None = None

    # -- what definitions may refer to ---------------------------------------------------------

    def catalogue(self) -> Catalogue:
        """Traits of the profile catalogue and event names (spec names and those in the data)."""
        if self._catalogue is None:
            seen = (
                [
                    str(r[0])
                    for r in self.engine.fetch_all(
                        exp.select(exp.Distinct(expressions=[col("event")]))
                        .from_("events")
                        .where(exp.not_(exp.Is(this=col("event"), expression=exp.Null())))
                    )
                ]
                if self.engine.table_exists("events")
                else []
            )
            self._catalogue = Catalogue.from_traits(self._traits(), [*SPEC_EVENTS, *seen])
        return self._catalogue

    def checker(self) -> Checker:
        return Checker(
            self.catalogue(),
            segments=lambda name: s.definition if (s := self.store.get(name)) else None,
            sql_templates=self.get_sql_template,
        )

    def validate(self, data: Mapping[str, Any] | SegmentDefinition) -> SegmentDefinition:
        """Shape and meaning; raises :class:`~segmint.segments.validation.DefinitionError`."""
        return self.checker().validate(data)

    # -- definitions ---------------------------------------------------------------------------

    def create(
        self, data: Mapping[str, Any] | SegmentDefinition, *, replace: bool = False
    ) -> StoredSegment:
        """Validate and save a definition (a new version when ``replace``)."""
        definition = self.validate(data)
        if not replace and self.store.get(definition.name) is not None:
            raise SegmentError(
                f"segment {definition.name!r} already exists; use --replace to save a new version"
            )
        return self.store.save(definition)

    def from_template(
        self,
        name: str,
        template: str,
        params: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> SegmentDefinition:
        """A definition from a built-in template (not saved)."""
        return get_template(template).instantiate(name, params, **options)

    def get(self, name: str, version: int | None = None) -> StoredSegment:
        return self.store.require(name, version)

    def list_segments(self) -> list[dict[str, Any]]:
        """Every segment with its current version and latest run."""
        out = []
        for name in self.store.names():
            stored = self.store.require(name)
            last = self.store.last_run(name)
            out.append(
                {
                    "name": name,
                    "version": stored.version,
                    "title": stored.definition.title,
                    "purpose": stored.definition.purpose,
                    "template": stored.definition.template.name
                    if stored.definition.template
                    else None,
                    "members": last.members if last else None,
                    "last_run_as_of": last.as_of.isoformat(sep=" ") if last else None,
                }
            )
        return out

    def delete(self, name: str) -> None:
        """Delete a segment (refused while another segment refers to it)."""
        self.store.require(name)
        users = [
            other
            for other in self.store.names()
            if other != name
            and any(
                isinstance(c, SegmentMembershipCondition) and c.segment == name
                for _, c in definition_conditions(self.store.require(other).definition)
            )
        ]
        if users:
            raise SegmentError(
                f"segment {name!r} is used by {', '.join(users)}; change or delete those first"
            )
        self.store.delete(name)

    def resolve(self, segment: str | Mapping[str, Any] | SegmentDefinition) -> SegmentDefinition:
        """A saved segment by name, or a definition given as data (validated)."""
        if isinstance(segment, str):
            return self.store.require(segment).definition
        return self.validate(segment)

    # -- compiling -----------------------------------------------------------------------------

    def context(
        self,
        as_of: datetime | str | None = None,
        *,
        dialect: str | None = None,
        keyed: bool = True,
    ) -> CompileContext:
        """Compile context for an evaluation time (profiles built as of it when in the past).

        ``keyed`` reads events and orders from the materialised tables (for queries this
        engine runs); off, the SQL reads the canonical tables joined with identity resolution
        (portable SQL for another engine).
        """
        when = self._clock() if as_of is None else normalize_as_of(as_of)
        prefix = ""
        if as_of is not None:
            prefix = as_of_prefix(when)
            if not self.engine.table_exists(f"{prefix}profiles"):
                if self._build_as_of is None:
                    raise SegmentError(
                        "evaluating as of a past date needs profiles built as of that date, "
                        "and this workspace cannot build them"
                    )
                self.console.info(f"Building profiles as of {when:%Y-%m-%d %H:%M:%S}...")
                self._build_as_of(when, prefix)
        tables = SourceTables(
            profiles=f"{prefix}profiles",
            profile_category_stats=f"{prefix}profile_category_stats",
            profile_email_stats=f"{prefix}profile_email_stats",
        )
        if not self.engine.table_exists(tables.profiles):
            raise SegmentError(
                "there are no customer profiles yet: build them first (`segmint profiles build`)"
            )
        return CompileContext(
            catalogue=self.catalogue(),
            as_of=when,
            resolver=lambda kind: self._resolver(kind, prefix),
            tables=tables,
            segments=lambda name: s.definition if (s := self.store.get(name)) else None,
            sql_templates=self.get_sql_template,
            dialect=dialect or self.engine.dialect,
            keyed=self.keyed.ensure(prefix) if keyed and self.materialize else {},
        )

    def compile(
        self,
        segment: str | Mapping[str, Any] | SegmentDefinition,
        *,
        as_of: datetime | str | None = None,
        dialect: str | None = None,
        keyed: bool = True,
    ) -> exp.Select:
        """The members query of a segment as a sqlglot expression (for the engine's dialect
        unless another is named; see :meth:`context` for ``keyed``)."""
        definition = self.resolve(segment)
        context = self.context(as_of, dialect=dialect, keyed=keyed)
        return SegmentCompiler(context).members_query(definition)

    def sql(
        self,
        segment: str | Mapping[str, Any] | SegmentDefinition,
        *,
        dialect: str = "duckdb",
        as_of: datetime | str | None = None,
    ) -> str:
        """The members query rendered in a SQL dialect."""
        query = self.compile(segment, as_of=as_of, dialect=dialect, keyed=False)
        return query.sql(dialect=dialect, pretty=True)

    def _evaluate(self, definition: SegmentDefinition, ctx: CompileContext) -> None:
        """Materialise rule members with their consent and control-group flags."""
        compiler = SegmentCompiler(ctx)
        query = compiler.members_query(definition, with_consent=False)
        opted_out = compiler.opted_out_predicate()
        holdout: exp.Expr = exp.false()
        if definition.holdout_percent > 0:
            key = exp.DPipe(
                this=exp.Literal.string(f"{definition.name}:"),
                expression=exp.cast(col(PROFILE_ID, "p"), exp.DataType.build("VARCHAR")),
            )
            threshold = round(definition.holdout_percent * HOLDOUT_BUCKETS / 100)
            holdout = exp.LT(
                this=self.engine.hash_bucket(key, HOLDOUT_BUCKETS),
                expression=exp.Literal.number(threshold),
            )
        query = query.select(opted_out.as_("opted_out"), holdout.as_("holdout"))
        if ctx.catalogue.trait(REVENUE_TRAIT) is not None:
            # Carried along so preview's revenue needs no second pass over the profiles.
            query = query.select(col(REVENUE_TRAIT, "p").as_("revenue"))
        self.engine.execute(create_table_as(_MEMBERS_TMP, query, temporary=True))

    def _members_filter(self, definition: SegmentDefinition) -> exp.Expr:
        if definition.purpose == "marketing":
            return exp.not_(col("opted_out"))
        return exp.true()

    # -- preview, run, history -----------------------------------------------------------------

    def preview(
        self,
        segment: str | Mapping[str, Any] | SegmentDefinition,
        *,
        as_of: datetime | str | None = None,
        sample_size: int = 10,
    ) -> Preview:
        """Size, share of profiles and revenue, a sample and overlaps; nothing is saved."""
        definition = self.resolve(segment)
        ctx = self.context(as_of)
        self._evaluate(definition, ctx)
        try:
            keep = self._members_filter(definition)
            has_revenue = ctx.catalogue.trait(REVENUE_TRAIT) is not None
            kept = exp.Filter(
                this=exp.Count(this=exp.Star()), expression=exp.Where(this=keep.copy())
            )
            counts = exp.select(
                kept,
                "COUNT(*) FILTER (WHERE opted_out)",
                exp.Filter(
                    this=exp.Count(this=exp.Star()),
                    expression=exp.Where(this=exp.and_(keep.copy(), col("holdout"))),
                ),
                exp.Filter(
                    this=exp.Sum(this=col("revenue")), expression=exp.Where(this=keep.copy())
                )
                if has_revenue
                else exp.Null(),
            ).from_(_MEMBERS_TMP)
            size, opted, holdout, revenue_value = self.engine.fetch_one(counts) or (0, 0, 0, None)
            totals = exp.select(
                exp.Count(this=exp.Star()),
                exp.Sum(this=col(REVENUE_TRAIT)) if has_revenue else exp.Null(),
            ).from_(ctx.tables.profiles)
            profiles, total_value = self.engine.fetch_one(totals) or (0, None)
            profiles = int(profiles)
            revenue = _number(revenue_value) if has_revenue else None
            total_revenue = _number(total_value)
            return Preview(
                segment=definition.name,
                as_of=ctx.as_of,
                size=int(size),
                profiles=profiles,
                share_of_profiles=(int(size) / profiles) if profiles else None,
                revenue=revenue,
                share_of_revenue=(revenue or 0) / total_revenue if total_revenue else None,
                sample=self._sample(ctx, keep, sample_size),
                overlap=self._overlap(definition.name, keep),
                purpose=definition.purpose,
                consent_excluded=int(opted) if definition.purpose == "marketing" else 0,
                opted_out_included=int(opted) if definition.purpose == "analysis" else 0,
                holdout=int(holdout or 0),
            )
        finally:
            self.engine.drop_table(_MEMBERS_TMP)

    def _sample(self, ctx: CompileContext, keep: exp.Expr, n: int) -> list[dict[str, Any]]:
        traits = [t for t in SAMPLE_TRAITS if ctx.catalogue.trait(t) is not None]
        # The first n members by id, then their traits: a small join, not a sort of everyone.
        first = (
            exp.select(col(PROFILE_ID), col("holdout"))
            .from_(_MEMBERS_TMP)
            .where(keep)
            .order_by(col(PROFILE_ID))
            .limit(n)
        )
        query = (
            exp.select(col(PROFILE_ID, "m"), *(col(t, "p") for t in traits), col("holdout", "m"))
            .from_(exp.Subquery(this=first, alias=exp.TableAlias(this=exp.to_identifier("m"))))
            .join(
                exp.to_table(ctx.tables.profiles).as_("p"),
                on=exp.EQ(this=col(PROFILE_ID, "p"), expression=col(PROFILE_ID, "m")),
            )
            .order_by(col(PROFILE_ID, "m"))
        )
        names = [PROFILE_ID, *traits, "holdout"]
        return [dict(zip(names, row, strict=True)) for row in self.engine.fetch_all(query)]

    def _overlap(self, name: str, keep: exp.Expr) -> list[dict[str, Any]]:
        query = (
            exp.select(
                col("segment", "s"),
                exp.func("COUNT", exp.Star()).as_("overlap"),
            )
            .from_(exp.to_table(SEGMENT_MEMBERS.name).as_("s"))
            .join(
                exp.to_table(_MEMBERS_TMP).as_("m"),
                on=exp.EQ(this=col(PROFILE_ID, "m"), expression=col(PROFILE_ID, "s")),
            )
            .where(_qualified(keep, "m"))
            .where(exp.NEQ(this=col("segment", "s"), expression=exp.Literal.string(name)))
            .group_by(col("segment", "s"))
            .order_by("overlap DESC")
        )
        sizes = dict(
            self.engine.fetch_all(
                exp.select("segment", "COUNT(*)").from_(SEGMENT_MEMBERS.name).group_by("segment")
            )
        )
        return [
            {
                "segment": seg,
                "overlap": int(n),
                "other_size": int(sizes.get(seg, 0)),
                "share_of_other": int(n) / int(sizes[seg]) if sizes.get(seg) else None,
            }
            for seg, n in self.engine.fetch_all(query)
        ]

    def run(self, name: str, *, as_of: datetime | str | None = None) -> RunRecord:
        """Evaluate a saved segment, store its members and record who entered and exited."""
        stored = self.store.require(name)
        started = utc_now()
        ctx = self.context(as_of)
        self._evaluate(stored.definition, ctx)
        try:
            excluded = 0
            if stored.definition.purpose == "marketing":
                excluded = int(
                    self.engine.fetch_value(
                        exp.select("COUNT(*)").from_(_MEMBERS_TMP).where("opted_out")
                    )
                )
            candidates = "_segment_candidates"
            self.engine.execute(
                create_table_as(
                    candidates,
                    exp.select(PROFILE_ID, "holdout")
                    .from_(_MEMBERS_TMP)
                    .where(self._members_filter(stored.definition)),
                    temporary=True,
                )
            )
            try:
                record = self.store.record_run(
                    stored,
                    candidates,
                    as_of=ctx.as_of,
                    started_at=started,
                    consent_excluded=excluded,
                )
            finally:
                self.engine.drop_table(candidates)
        finally:
            self.engine.drop_table(_MEMBERS_TMP)
        return record

    def history(self, name: str, *, changes: bool = True, limit: int | None = 1000) -> History:
        """Runs in order (size over time) and, optionally, who entered and exited."""
        self.store.require(name)
        return History(
            name, self.store.runs(name), self.store.changes(name, limit=limit) if changes else []
        )

    def explain(
        self,
        segment: str | Mapping[str, Any] | SegmentDefinition,
        profile_id: str,
        *,
        as_of: datetime | str | None = None,
    ) -> Explanation:
        """For one profile: each condition with its value and whether it passed."""
        definition = self.resolve(segment)
        ctx = self.context(as_of)
        return SegmentExplainer(self.engine, ctx).explain(
            definition, profile_id, holdout=self.in_holdout(definition, profile_id)
        )

    def in_holdout(self, definition: SegmentDefinition, profile_id: str) -> bool:
        """Whether a profile falls in the segment's control group (whether or not a member)."""
        if definition.holdout_percent <= 0:
            return False
        key = exp.Literal.string(f"{definition.name}:{profile_id}")
        bucket = int(
            self.engine.fetch_value(exp.select(self.engine.hash_bucket(key, HOLDOUT_BUCKETS)))
        )
        return bucket < round(definition.holdout_percent * HOLDOUT_BUCKETS / 100)

    def members(self, name: str, *, include_holdout: bool = False) -> exp.Select:
        """The current members query (control group left out unless asked for)."""
        self.store.require(name)
        return self.store.member_table_query(name, include_holdout=include_holdout)

    def export(
        self,
        name: str,
        path: str | Path,
        *,
        format: Literal["csv", "parquet"] | None = None,
        include_holdout: bool = False,
        traits: list[str] | None = None,
    ) -> int:
        """Write the current members (with chosen traits) to CSV or Parquet; returns the row
        count. The control group is left out unless ``include_holdout``."""
        if self.store.last_run(name) is None:
            raise SegmentError(f"segment {name!r} has not run yet: `segmint segment run {name}`")
        target = Path(path)
        fmt = format or ("parquet" if target.suffix == ".parquet" else "csv")
        catalogue = self.catalogue()
        wanted = traits if traits is not None else [t for t in ("email",) if catalogue.trait(t)]
        unknown = [t for t in wanted if catalogue.trait(t) is None]
        if unknown:
            raise SegmentError(f"unknown traits: {', '.join(unknown)}")
        members = self.members(name, include_holdout=include_holdout)
        query = (
            exp.select(
                col(PROFILE_ID, "m"),
                *(col(t, "p") for t in wanted),
                col("holdout", "m"),
                col("entered_at", "m"),
            )
            .from_(exp.Subquery(this=members, alias=exp.TableAlias(this=exp.to_identifier("m"))))
            .join(
                exp.to_table("profiles").as_("p"),
                on=exp.EQ(this=col(PROFILE_ID, "p"), expression=col(PROFILE_ID, "m")),
                join_type="left",
            )
            .order_by(col(PROFILE_ID, "m"))
        )
        return write_members(self.engine, query, target, fmt)

    # -- custom SQL templates ------------------------------------------------------------------

    def create_sql_template(
        self,
        name: str,
        sql: str,
        *,
        dialect: str = "duckdb",
        parameters: list[SqlParameter | str | Mapping[str, Any]] | None = None,
        description: str = "",
        replace: bool = False,
    ) -> CustomSqlTemplate:
        """Check and save a custom SQL template (see :mod:`segmint.segments.custom_sql`)."""
        return self.sql_templates.save(
            name,
            sql,
            dialect=dialect,
            parameters=parameters,
            description=description,
            replace=replace,
        )

    def get_sql_template(self, name: str) -> CustomSqlTemplate | None:
        return self.sql_templates.get(name)

    def list_sql_templates(self) -> list[CustomSqlTemplate]:
        return self.sql_templates.list()

    def delete_sql_template(self, name: str) -> None:
        """Delete a custom SQL template (refused while a segment uses it)."""
        if self.sql_templates.get(name) is None:
            raise SegmentNotFound(f"no SQL template named {name!r}")
        users = [
            other
            for other in self.store.names()
            if any(
                isinstance(c, SqlTemplateCondition) and c.template == name
                for _, c in definition_conditions(self.store.require(other).definition)
            )
        ]
        if users:
            raise SegmentError(f"SQL template {name!r} is used by {', '.join(users)}")
        self.sql_templates.delete(name)


def _qualified(predicate: exp.Expr, alias: str) -> exp.Expr:
    """The members-filter predicate with its columns qualified by the members alias."""
    out = predicate.copy()
    for column in out.find_all(exp.Column):
        column.set("table", exp.to_identifier(alias))
    return out


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
