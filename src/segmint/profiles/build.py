"""Build the profile tables: identity resolution, then every trait, in one transaction.

The build stages its inputs into temporary work tables, computes each source's traits, joins
them into new tables under temporary names, lets registered extensions fill their columns,
and only then swaps the new tables in for the old ones. All of it runs in one transaction:
a build that fails leaves the previous profiles (and identity graph) exactly as they were.

The build date (``as_of``) bounds everything: only records up to it count, every "last N
days" window ends at it, ages are taken on it. The same data and the same ``as_of`` give the
same tables.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import Any, Protocol

from sqlglot import exp

from segmint.config import WorkspaceConfig
from segmint.console import Console, NullConsole
from segmint.engines.base import Engine
from segmint.model.tables import Column, ColumnType, Table
from segmint.profiles import email, engagement, orders, people, rfm, web
from segmint.profiles.assemble import create_outputs
from segmint.profiles.catalogue import ExtensionContext, extensions
from segmint.profiles.lifecycle import lifecycle_values
from segmint.profiles.sources import (
    STAGES,
    BuildContext,
    RecordResolver,
    count_after_as_of,
    count_issues,
    identity_resolver,
)
from segmint.profiles.sql import ProfileTables, literal, rename_table
from segmint.profiles.types import ProfileBuildResult, ProfilesError

#: The build log: one row per profile build, read by ``segmint profiles summary``.
PROFILE_BUILDS = Table(
    name="profile_builds",
    description="One row per profile build.",
    key=("build_id",),
    columns=(
        Column("build_id", ColumnType.STRING, "Build id.", required=True),
        Column("as_of", ColumnType.TIMESTAMP, "Build date (UTC).", required=True),
        Column("started_at", ColumnType.TIMESTAMP, "Start (UTC)."),
        Column("finished_at", ColumnType.TIMESTAMP, "End (UTC)."),
        Column("profiles", ColumnType.INTEGER, "Profiles built."),
        Column("identified", ColumnType.INTEGER, "Profiles with a customer id, email or phone."),
        Column("buyers", ColumnType.INTEGER, "Profiles with at least one purchase."),
        Column(
            "store_median_gap_days",
            ColumnType.DOUBLE,
            "The store's median days between purchases (lifecycle rhythm).",
        ),
        Column("result", ColumnType.JSON, "The whole build result as JSON."),
    ),
)


class IdentityBuilder(Protocol):
    """``build_identity`` of the identity module."""

    def __call__(
        self,
        engine: Engine,
        config: Any,
        *,
        full: bool = False,
        as_of: datetime | None = None,
        prefix: str = "",
        console: Console = ...,
    ) -> Any: ...


def normalize_as_of(
    as_of: date | datetime | str | None, *, now: datetime | None = None
) -> datetime:
    """The build date as a naive UTC timestamp.

    None means now (to the second; ``now`` replaces the real time, e.g. the workspace's
    configured clock). A date means the end of that day (UTC), so everything that
    happened on it counts. A datetime with a time zone is converted to UTC; a naive one is
    taken as UTC. Text is read as ISO 8601 (``2025-06-01`` or ``2025-06-01T12:00:00+02:00``).
    """
    if as_of is None:
        current = now or datetime.now(UTC)
        if current.tzinfo is not None:
            current = current.astimezone(UTC).replace(tzinfo=None)
        return current.replace(microsecond=0)
    if isinstance(as_of, str):
        text = as_of.strip()
        try:
            parsed: date | datetime = (
                date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
            )
        except ValueError:
            raise ProfilesError(
                f"--as-of {as_of!r} is not a date (YYYY-MM-DD) or an ISO 8601 time"
            ) from None
        return normalize_as_of(parsed)
    if isinstance(as_of, datetime):
        if as_of.tzinfo is not None:
            as_of = as_of.astimezone(UTC).replace(tzinfo=None)
        return as_of
    return datetime.combine(as_of, clock.max)


def default_prefix(as_of: datetime) -> str:
    """Where an as-of build goes unless told otherwise: ``asof_YYYYMMDD_`` (with the time when
    the build date is not the end of a day)."""
    if as_of.time() == clock.max:
        return f"asof_{as_of:%Y%m%d}_"
    return f"asof_{as_of:%Y%m%d_%H%M%S}_"


def build_profiles(
    engine: Engine,
    config: WorkspaceConfig,
    *,
    as_of: date | datetime | str | None = None,
    prefix: str | None = None,
    console: Console | None = None,
    run_identity: bool = True,
    full_identity: bool = False,
    resolver: RecordResolver | None = None,
    identity_builder: IdentityBuilder | None = None,
) -> ProfileBuildResult:
    """Build ``profiles``, ``profile_category_stats`` and ``profile_email_stats``.

    ``as_of`` None builds the current profiles into the main tables. With a past ``as_of`` the
    tables (identity's included) get a name prefix, ``asof_YYYYMMDD_`` unless ``prefix`` says
    otherwise, so a look at the past never replaces the profiles segments are synced from.

    ``run_identity`` runs identity resolution first, in the same transaction (incremental
    unless ``full_identity``). ``resolver`` and ``identity_builder`` stand in for the identity
    module's ``resolved_records`` and ``build_identity`` (tests use them).

    >>> build_profiles(ws.engine, ws.config).buyers                      # doctest: +SKIP
    >>> build_profiles(ws.engine, ws.config, as_of="2025-06-30").prefix  # doctest: +SKIP
    'asof_20250630_'
    """
    console = console or NullConsole()
    started = datetime.now(UTC).replace(tzinfo=None)
    clock_start = time.perf_counter()
    explicit_date = as_of is not None
    # A workspace with a configured clock (a replayed or demo store) builds "now" at it.
    cutoff = normalize_as_of(as_of, now=config.clock)
    if prefix is None:
        prefix = default_prefix(cutoff) if explicit_date else ""
    tables = ProfileTables(prefix)
    build_id = uuid.uuid4().hex[:12]
    ctx = BuildContext(
        engine=engine,
        config=config.profiles,
        tables=tables,
        as_of=cutoff,
        resolver=resolver or identity_resolver(),
        # Temporary tables belong to this connection, and one connection runs one build at a
        # time: fixed names keep the statement text, and so its parse cache, the same.
        work_prefix=f"_segmint_profiles_{prefix}",
    )
    result = ProfileBuildResult(build_id=build_id, as_of=cutoff, prefix=prefix)
    steps: list[tuple[str, Callable[[], None]]] = []
    if run_identity:
        builder = identity_builder or _identity_builder()

        def identity_step() -> None:
            outcome = builder(
                engine,
                config.identity,
                full=full_identity,
                as_of=cutoff if explicit_date else None,
                prefix=prefix,
                console=console,
            )
            result.identity = _as_dict(outcome)

        steps.append(("identity resolution", identity_step))
    steps += [(name, _bind(stage, ctx)) for name, stage in STAGES]
    store_gap: list[float | None] = [None]

    def report() -> None:
        result.issues = count_issues(ctx)
        result.after_as_of = count_after_as_of(ctx)

    def order_stats() -> None:
        orders.build_order_stats(ctx)
        store_gap[0] = orders.store_median_gap_days(ctx)

    def email_traits() -> None:
        email.build_email_facts(ctx)
        email.build_email_stats(ctx)

    def people_traits() -> None:
        people.build_people(ctx)
        engagement.build_review_stats(ctx)
        engagement.build_ticket_stats(ctx)

    steps += [
        ("order facts", _bind(orders.build_order_facts, ctx)),
        # Counted early, while little else of the build holds memory.
        ("count issues", report),
        ("order stats", order_stats),
        ("category stats", _bind(orders.build_category_stats, ctx)),
        ("top categories", _bind(orders.build_top_dimensions, ctx)),
        ("rfm scores", _bind(rfm.build_rfm_scores, ctx)),
        ("web traits", _bind(web.build_web_stats, ctx)),
        ("email traits", email_traits),
        ("people, reviews and tickets", people_traits),
    ]

    def assemble() -> None:
        values: dict[str, Any] = {
            "as_of": cutoff,
            "visits_window_days": config.profiles.visits_window_days,
            **lifecycle_values(config.profiles, store_gap[0]),
        }
        create_outputs(ctx, values)
        for extension in extensions():
            if extension.fill is not None:
                extension.fill(
                    ExtensionContext(
                        engine=engine,
                        config=config.profiles,
                        profiles_table=ctx.output("profiles"),
                        prefix=prefix,
                        as_of=cutoff,
                    )
                )

    def swap() -> None:
        for kind, final in (
            ("profiles", tables.profiles),
            ("category_stats", tables.category_stats),
            ("email_stats", tables.email_stats),
        ):
            engine.drop_table(final)
            engine.execute(rename_table(ctx.output(kind), final))

    steps += [("assemble profiles", assemble), ("swap in", swap)]

    try:
        with engine.transaction(), console.progress("Building profiles", len(steps)) as bar:
            for name, step in steps:
                t0 = time.perf_counter()
                step()
                result.timings[name] = round(time.perf_counter() - t0, 3)
                bar.advance()
            result.store_median_gap_days = store_gap[0]
            _summarise(engine, tables, result)
            result.seconds = round(time.perf_counter() - clock_start, 3)
            _log_build(engine, tables, result, started, store_gap[0])
    finally:
        _drop_work_tables(engine, ctx)
    _report_issues(console, result)
    return result


def _bind(step: Callable[[BuildContext], None], ctx: BuildContext) -> Callable[[], None]:
    return lambda: step(ctx)


def _identity_builder() -> IdentityBuilder:
    try:
        from segmint.identity import build_identity
    except ImportError as exc:  # pragma: no cover - only without the identity module
        raise ProfilesError(
            f"identity resolution is not available ({exc}); profiles need it to know who is who"
        ) from exc
    return build_identity


def _as_dict(outcome: Any) -> dict[str, Any] | None:
    if outcome is None:
        return None
    if hasattr(outcome, "to_dict"):
        return dict(outcome.to_dict())
    if isinstance(outcome, dict):
        return outcome
    return {"result": str(outcome)}


def _summarise(engine: Engine, tables: ProfileTables, result: ProfileBuildResult) -> None:
    row = engine.fetch_one(
        exp.select(
            "COUNT(*)",
            "COUNT(*) FILTER (WHERE identified)",
            "COUNT(*) FILTER (WHERE order_count > 0)",
        ).from_(tables.profiles)
    )
    assert row is not None
    result.profiles, result.identified, result.buyers = (int(v) for v in row)
    result.category_rows = engine.count_rows(tables.category_stats)
    result.email_category_rows = engine.count_rows(tables.email_stats)


def _log_build(
    engine: Engine,
    tables: ProfileTables,
    result: ProfileBuildResult,
    started: datetime,
    store_gap: float | None,
) -> None:
    engine.create_table(PROFILE_BUILDS, name=tables.builds, if_not_exists=True)
    values = (
        result.build_id,
        result.as_of,
        started,
        datetime.now(UTC).replace(tzinfo=None),
        result.profiles,
        result.identified,
        result.buyers,
        store_gap,
        json.dumps(result.to_dict(), default=str),
    )
    engine.execute(
        exp.insert(
            exp.select(*(literal(v) for v in values)),
            tables.builds,
            columns=[c.name for c in PROFILE_BUILDS.columns],
        )
    )


def _drop_work_tables(engine: Engine, ctx: BuildContext) -> None:
    for name in ctx.names().values():
        if name.startswith(ctx.work_prefix):
            engine.drop_table(name)


def _report_issues(console: Console, result: ProfileBuildResult) -> None:
    issues = result.issues
    notes = {
        "orders could not be attributed to a person": issues.unresolved_orders,
        "events have neither anonymous_id nor user_id": issues.events_without_ids,
        "events could not be attributed to a person": issues.unresolved_events,
        "customer records could not be attributed to a person": issues.unresolved_customers,
        "reviews could not be attributed to a person": issues.unresolved_reviews,
        "tickets could not be attributed to a person": issues.unresolved_tickets,
        "order lines belong to no known order": issues.orphan_order_lines,
    }
    for text, count in notes.items():
        if count:
            console.warn(f"{count:,} {text} (left out of the profiles)")
