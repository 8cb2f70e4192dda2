"""Building the identity graph: source records in, one profile_id per person out.

A build runs in one transaction, in the engine, in these steps:

1. read identifiers from source records new or changed since the last run (all of them for a
   full build), normalise them (emails in SQL, phone numbers through a lookup table);
2. keep them as observations (record -> identifier) and links (pairs of identifiers seen in
   the same record), replacing what changed records held before;
3. run the over-merge guard (:mod:`segmint.identity.guard`);
4. update connected components (:mod:`segmint.identity.components`): components that lost a
   link (a changed record, a newly guarded identifier) are recomputed from scratch, new links
   then join components on a graph of component labels, which is small;
5. give every changed component its profile_id, derived from its *anchor*: the identifier seen
   first (undated customer records count as oldest; ties broken by type precedence, then value).
   When two profiles merge, the older anchor wins, so the older profile's id survives. The id
   depends on the component's identifiers and their times only, so an incremental run and a
   full rebuild give the same ids, and unrelated data never changes them;
6. record merges, splits and re-anchorings in ``identity_merges`` (:mod:`segmint.identity.audit`),
   then write ``identities``, ``identity_guarded`` and the run's row in ``identity_runs``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from segmint.config import IdentityConfig
from segmint.console import Console, NullConsole
from segmint.engines.base import Engine
from segmint.identity import audit, extract
from segmint.identity.components import connected_components
from segmint.identity.errors import IdentityError
from segmint.identity.guard import GUARD, compute_guard
from segmint.identity.normalize import parse_new_phones
from segmint.identity.result import IdentityResult, record_run, summarize
from segmint.identity.sql import statement
from segmint.identity.tables import MERGES, PHONE_LOOKUP, RUNS, STATE_TABLES, TableNames

PROFILE_ID_SQL = "'p_' || substr(md5(id_type || ':' || id_value), 1, 20)"

# Whether node ``n`` (with its recomputed guard row ``g``, if any) may merge after this run:
# not guarded (the new verdict where recomputed, else the stored one) and still observed.
_MAY_MERGE = (
    "CASE WHEN g.node_id IS NULL THEN NOT n.guarded ELSE g.reason IS NULL END "
    "AND n.node_id NOT IN (SELECT node_id FROM {removed})"
)


def as_of_prefix(as_of: datetime) -> str:
    """The default table prefix of an ``as_of`` build: ``asof_20250101_`` (time added if any)."""
    if as_of.time() == datetime.min.time():
        return f"asof_{as_of:%Y%m%d}_"
    return f"asof_{as_of:%Y%m%d_%H%M%S}_"


def settings_of(config: IdentityConfig, as_of: datetime | None) -> str:
    """The settings a build depends on: a change forces a full rebuild."""
    data = config.model_dump()
    data["as_of"] = as_of.isoformat() if as_of else None
    return json.dumps(data, sort_keys=True)


def build_identity(
    engine: Engine,
    config: IdentityConfig,
    *,
    full: bool = False,
    as_of: datetime | None = None,
    prefix: str = "",
    console: Console | None = None,
) -> IdentityResult:
    """Build or update the identity graph and the ``identities`` table.

    Incremental by default: only records loaded since the last run are read. A full rebuild
    happens when asked, on the first run, and when the identity settings or ``as_of`` changed
    since the last run with the same ``prefix``; both give the same components and profile ids.
    ``as_of`` uses only records whose time is not after it, and needs a ``prefix`` so that the
    current tables are left alone.

    >>> result = build_identity(ws.engine, ws.config.identity)   # doctest: +SKIP
    >>> result.profiles                                          # doctest: +SKIP
    """
    console = console or NullConsole()
    names = TableNames(prefix)
    if as_of is not None and not prefix:
        raise IdentityError(
            "an as_of build needs a table prefix, so it does not overwrite the current "
            "identity tables (e.g. prefix='asof_20250101_')"
        )
    if as_of is not None and as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    started = time.perf_counter()
    started_at = datetime.now(UTC).replace(tzinfo=None)
    run_id = f"id_{started_at:%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"
    settings = settings_of(config, as_of)
    build = _Build(engine, config, names, console)
    with engine.transaction():
        previous = build.previous_run()
        mode = "full"
        if not full and previous is not None:
            if previous[0] == settings:
                mode = "incremental"
            else:
                console.info("Identity settings or as_of changed since the last run: full rebuild.")
        result = IdentityResult(run_id=run_id, mode=mode, as_of=as_of, prefix=prefix)
        build.run(
            result,
            previous_watermarks=previous[1] if mode == "incremental" and previous else None,
            as_of=as_of,
        )
        result.seconds = round(time.perf_counter() - started, 3)
        record_run(
            engine,
            build.tables,
            result,
            started_at=started_at,
            settings=settings,
            watermarks=build.watermarks,
        )
    return result


class _Build:
    """One build's steps over one engine connection (temporary tables are its scratch space)."""

    def __init__(
        self, engine: Engine, config: IdentityConfig, names: TableNames, console: Console
    ) -> None:
        self.engine, self.config, self.names, self.console = engine, config, names, console
        self.tables: dict[str, str] = {
            **names.mapping(),
            "raw": extract.RAW,
            "obs_new": extract.OBS_NEW,
            "changed": extract.CHANGED,
            "guard": GUARD,
        }
        for temp in _TEMPS:
            self.tables[temp] = f"_id_{temp}"
        self.watermarks: dict[str, datetime | None] = {}

    def sql(self, template: str, **values: Any) -> None:
        self.engine.execute(statement(template, self.tables, **values))

    def value(self, template: str, **values: Any) -> Any:
        return self.engine.fetch_value(statement(template, self.tables, **values))

    # -- state ---------------------------------------------------------------------------------

    def previous_run(self) -> tuple[str, dict[str, datetime | None]] | None:
        """(settings, watermarks) of the last run with this prefix, if the state is intact."""
        if not all(self.engine.table_exists(self.names(t)) for t in STATE_TABLES):
            return None
        row = self.engine.fetch_one(
            statement(
                "SELECT settings, watermarks FROM {runs} ORDER BY started_at DESC LIMIT 1",
                self.tables,
            )
        )
        if row is None:
            return None
        marks = {k: datetime.fromisoformat(v) if v else None for k, v in json.loads(row[1]).items()}
        return str(row[0]), marks

    def reset_state(self) -> None:
        """Full build: snapshot current profiles for the audit, then start from empty tables."""
        self.sql(
            "CREATE OR REPLACE TEMPORARY TABLE {prev_all} "
            "(id_type VARCHAR, id_value VARCHAR, profile_id VARCHAR)"
        )
        if self.engine.table_exists(self.names.nodes):
            self.sql(
                "INSERT INTO {prev_all} SELECT id_type, id_value, profile_id FROM {nodes} "
                "WHERE NOT guarded AND profile_id IS NOT NULL"
            )
        for spec in STATE_TABLES:
            if spec not in (MERGES, RUNS):  # the audit and the run history outlive rebuilds
                self.engine.drop_table(self.names(spec))
        self.ensure_tables()

    def ensure_tables(self) -> None:
        for spec in (*STATE_TABLES, PHONE_LOOKUP):
            # The contract table and two small ones carry their keys; the big internal tables
            # would pay for an index on every write and are only ever joined in bulk.
            keyed = spec.name in ("identities", "identity_phone_lookup", "identity_runs")
            self.engine.create_table(
                spec, name=self.names(spec), if_not_exists=True, with_key=keyed
            )

    # -- the run -------------------------------------------------------------------------------

    def run(
        self,
        result: IdentityResult,
        *,
        previous_watermarks: dict[str, datetime | None] | None,
        as_of: datetime | None,
    ) -> None:
        incremental = previous_watermarks is not None
        if incremental:
            self.ensure_tables()
            self.sql(
                "CREATE OR REPLACE TEMPORARY TABLE {prev_all} "
                "(id_type VARCHAR, id_value VARCHAR, profile_id VARCHAR)"
            )
        else:
            self.reset_state()
        self.watermarks = extract.watermarks(self.engine)
        with self.console.progress("Reading identifiers") as progress:
            self.remove_changed(previous_watermarks)
            result.records_read = extract.extract_raw(
                self.engine, self.config, previous=previous_watermarks, as_of=as_of
            )
            progress.advance()
            result.phones_parsed = parse_new_phones(self.engine, self.names, extract.RAW)
            extract.normalize_raw(self.engine, self.names, self.config)
            progress.advance()
            self.add_observations()
        with self.console.progress("Resolving identities") as progress:
            compute_guard(self.engine, self.tables, self.config, incremental=incremental)
            progress.advance()
            result.rounds = self.update_components()
            progress.advance()
            self.assign_profiles(incremental)
            result.merges, result.splits = audit.record_changes(
                self.engine, self.tables, result.run_id
            )
            self.write_outputs()
        summarize(self.engine, self.tables, result)
        for temp in (*_TEMPS, extract.RAW, extract.OBS_NEW, extract.CHANGED, extract.EMPTY, GUARD):
            self.engine.drop_table(self.tables.get(temp, temp))

    def remove_changed(self, previous: dict[str, datetime | None] | None) -> None:
        """Take the observations, links and invalid values of changed records out."""
        empty = "CREATE OR REPLACE TEMPORARY TABLE {old_obs} AS SELECT * FROM {observations} "
        if previous is None:
            self.sql(empty + "WHERE FALSE")
            self.sql(
                "CREATE OR REPLACE TEMPORARY TABLE {old_links} AS SELECT a, b FROM {links} "
                "WHERE FALSE"
            )
            return
        extract.changed_keys(self.engine, previous)
        match = (
            "EXISTS (SELECT 1 FROM {changed} AS c "
            "WHERE c.source = t.source AND c.source_key = t.source_key)"
        )
        self.sql(
            "CREATE OR REPLACE TEMPORARY TABLE {old_obs} AS SELECT t.* FROM {observations} AS t "
            f"WHERE {match}"
        )
        self.sql(
            "CREATE OR REPLACE TEMPORARY TABLE {old_links} AS SELECT t.a, t.b FROM {links} AS t "
            f"WHERE {match}"
        )
        for table in ("observations", "links", "invalid"):
            self.sql(f"DELETE FROM {{{table}}} AS t WHERE {match}")

    def add_observations(self) -> None:
        """New identifiers become nodes; the read records' observations and links are added."""
        base = int(self.value("SELECT coalesce(max(node_id), 0) FROM {nodes}"))
        self.sql(
            """
            INSERT INTO {nodes} (node_id, id_type, id_value, id_rank, undated, customers, guarded)
            SELECT :base + row_number() OVER (ORDER BY n.id_rank, n.id_value),
                n.id_type, n.id_value, n.id_rank, FALSE, 0, FALSE
            FROM (SELECT DISTINCT id_type, id_value, id_rank FROM {obs_new}) AS n
            WHERE NOT EXISTS (
                SELECT 1 FROM {nodes} AS x WHERE x.id_type = n.id_type AND x.id_value = n.id_value)
            """,
            base=base,
        )
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {obs_ins} AS
            SELECT o.source, o.source_key, n.node_id, o.id_rank, o.seen_at
            FROM {obs_new} AS o JOIN {nodes} AS n
                ON n.id_type = o.id_type AND n.id_value = o.id_value
            """
        )
        self.sql("INSERT INTO {observations} SELECT * FROM {obs_ins}")
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {links_ins} AS
            SELECT x.source, x.source_key, x.node_id AS a, y.node_id AS b, x.seen_at
            FROM {obs_ins} AS x JOIN {obs_ins} AS y
                ON y.source = x.source AND y.source_key = x.source_key AND x.node_id < y.node_id
            """
        )
        self.sql("INSERT INTO {links} SELECT * FROM {links_ins}")
        self.sql(
            "CREATE OR REPLACE TEMPORARY TABLE {touched} AS "
            "SELECT node_id FROM {obs_ins} UNION SELECT node_id FROM {old_obs}"
        )
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {seen} AS
            SELECT t.node_id, min(o.seen_at) AS first_seen, max(o.seen_at) AS last_seen,
                count(o.node_id) > count(o.seen_at) AS undated, count(o.node_id) AS observed
            FROM {touched} AS t LEFT JOIN {observations} AS o ON o.node_id = t.node_id
            GROUP BY t.node_id
            """
        )
        self.sql(
            "CREATE OR REPLACE TEMPORARY TABLE {removed} AS "
            "SELECT node_id FROM {seen} WHERE observed = 0"
        )

    def update_components(self) -> int:
        """Fill ``_id_labels`` (node_id, label) for nodes whose label changes; return rounds.

        Labels are node ids: a component's label is the id of one of its members.
        """
        # Components that lost a link must be recomputed from scratch: label propagation only
        # ever joins components, it cannot split one.
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {dirty} AS
            SELECT n.label FROM {nodes} AS n JOIN {guard} AS g ON g.node_id = n.node_id
            WHERE g.reason IS NOT NULL AND n.label IS NOT NULL
            UNION
            SELECT n.label FROM {nodes} AS n JOIN {removed} AS r ON r.node_id = n.node_id
            WHERE n.label IS NOT NULL
            UNION
            SELECT n.label FROM {old_links} AS x JOIN {nodes} AS n ON n.node_id = x.a
            WHERE NOT EXISTS (SELECT 1 FROM {links} AS l WHERE l.a = x.a AND l.b = x.b)
                AND n.label IS NOT NULL
            """
        )
        # Fresh: nodes that may merge and have no component to keep (new, no longer guarded,
        # or in a component being recomputed).
        self.sql(
            f"""
            CREATE OR REPLACE TEMPORARY TABLE {{fresh}} AS
            SELECT n.node_id AS node FROM {{nodes}} AS n
                LEFT JOIN {{guard}} AS g ON g.node_id = n.node_id
            WHERE {_MAY_MERGE}
                AND (n.label IS NULL OR n.label IN (SELECT label FROM {{dirty}}))
            """
        )
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {fresh_edges} AS
            SELECT DISTINCT p.a, p.b FROM {links} AS p
            WHERE p.a IN (SELECT node FROM {fresh}) AND p.b IN (SELECT node FROM {fresh})
            """
        )
        rounds = connected_components(
            self.engine, self.tables["fresh"], self.tables["fresh_edges"], self.tables["cc_fresh"]
        )
        # Links that may join two components: those of the records just read, and those of
        # fresh identifiers. Each end's label before joining: fresh ones' new label, or the
        # component it keeps.
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {candidates} AS
            SELECT a, b FROM {links_ins}
            UNION
            SELECT p.a, p.b FROM {links} AS p
            WHERE p.a IN (SELECT node FROM {fresh}) OR p.b IN (SELECT node FROM {fresh})
            """
        )
        self.sql(
            f"""
            CREATE OR REPLACE TEMPORARY TABLE {{prelabel}} AS
            SELECT n.node_id, coalesce(c.label, n.label) AS label
            FROM (SELECT a AS node_id FROM {{candidates}} UNION SELECT b FROM {{candidates}}) AS x
                JOIN {{nodes}} AS n ON n.node_id = x.node_id
                LEFT JOIN {{guard}} AS g ON g.node_id = n.node_id
                LEFT JOIN {{cc_fresh}} AS c ON c.node = n.node_id
            WHERE {_MAY_MERGE}
            """
        )
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {joins} AS
            SELECT DISTINCT
                CASE WHEN pa.label < pb.label THEN pa.label ELSE pb.label END AS a,
                CASE WHEN pa.label < pb.label THEN pb.label ELSE pa.label END AS b
            FROM {candidates} AS x
                JOIN {prelabel} AS pa ON pa.node_id = x.a
                JOIN {prelabel} AS pb ON pb.node_id = x.b
            WHERE pa.label <> pb.label
            """
        )
        self.sql(
            "CREATE OR REPLACE TEMPORARY TABLE {join_nodes} AS "
            "SELECT a AS node FROM {joins} UNION SELECT b FROM {joins}"
        )
        rounds += connected_components(
            self.engine, self.tables["join_nodes"], self.tables["joins"], self.tables["cc_joins"]
        )
        self.sql(
            f"""
            CREATE OR REPLACE TEMPORARY TABLE {{labels}} AS
            SELECT f.node AS node_id, coalesce(j.label, f.label) AS label
            FROM {{cc_fresh}} AS f LEFT JOIN {{cc_joins}} AS j ON j.node = f.label
            UNION ALL
            SELECT n.node_id, j.label FROM {{nodes}} AS n
                JOIN {{cc_joins}} AS j ON j.node = n.label
                LEFT JOIN {{guard}} AS g ON g.node_id = n.node_id
            WHERE j.label <> n.label AND {_MAY_MERGE}
                AND n.node_id NOT IN (SELECT node FROM {{fresh}})
            """
        )
        return rounds

    def assign_profiles(self, incremental: bool) -> None:
        """Fill ``_id_newprof`` (node_id, profile_id) for the members of changed components."""
        # Changed components: every node with a new label (recomputed parts of split
        # components included, so a split is seen whole), and those holding a node whose
        # records changed (its first or last sighting may have moved).
        self.sql(
            f"""
            CREATE OR REPLACE TEMPORARY TABLE {{affected}} AS
            SELECT label FROM {{labels}}
            UNION
            SELECT coalesce(l.label, n.label) FROM {{touched}} AS t
                JOIN {{nodes}} AS n ON n.node_id = t.node_id
                LEFT JOIN {{labels}} AS l ON l.node_id = n.node_id
                LEFT JOIN {{guard}} AS g ON g.node_id = n.node_id
            WHERE {_MAY_MERGE}
            """
        )
        self.sql(
            f"""
            CREATE OR REPLACE TEMPORARY TABLE {{members}} AS
            SELECT node_id, label FROM {{labels}}
            UNION ALL
            SELECT n.node_id, n.label FROM {{nodes}} AS n
                LEFT JOIN {{guard}} AS g ON g.node_id = n.node_id
            WHERE n.label IN (SELECT label FROM {{affected}}) AND {_MAY_MERGE}
                AND n.node_id NOT IN (SELECT node_id FROM {{labels}})
            """
        )
        self.sql(
            f"""
            CREATE OR REPLACE TEMPORARY TABLE {{anchors}} AS
            SELECT label, {PROFILE_ID_SQL} AS profile_id, id_type, id_value FROM (
                SELECT m.label, n.id_type, n.id_value, row_number() OVER (
                    PARTITION BY m.label
                    ORDER BY CASE WHEN coalesce(s.undated, n.undated) THEN 0 ELSE 1 END,
                        -- undated identifiers are all equally old: their dated sightings
                        -- do not order them
                        CASE WHEN NOT coalesce(s.undated, n.undated)
                            THEN coalesce(s.first_seen, n.first_seen) END NULLS FIRST,
                        n.id_rank, n.id_value
                ) AS position
                FROM {{members}} AS m
                    JOIN {{nodes}} AS n ON n.node_id = m.node_id
                    LEFT JOIN {{seen}} AS s ON s.node_id = m.node_id
            ) AS ranked WHERE position = 1
            """
        )
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {newprof} AS
            SELECT m.node_id, a.profile_id FROM {members} AS m
                JOIN {anchors} AS a ON a.label = m.label
            """
        )
        # Profiles before this run, for the audit: a full build compares with the snapshot
        # taken before its tables were emptied, an incremental one with the nodes table.
        if incremental:
            self.sql(
                """
                INSERT INTO {prev_all}
                SELECT n.id_type, n.id_value, n.profile_id FROM {nodes} AS n
                    JOIN {newprof} AS p ON p.node_id = n.node_id
                WHERE NOT n.guarded AND n.profile_id IS NOT NULL
                UNION ALL
                SELECT n.id_type, n.id_value, n.profile_id FROM {nodes} AS n
                    JOIN {guard} AS g ON g.node_id = n.node_id
                WHERE g.reason IS NOT NULL AND NOT n.guarded AND n.profile_id IS NOT NULL
                """
            )

    def write_outputs(self) -> None:
        """Write the new state to the nodes table, then ``identities`` and the guarded list."""
        self.sql(
            """
            CREATE OR REPLACE TEMPORARY TABLE {dirty_ids} AS
            SELECT n.node_id, n.id_type, n.id_value FROM {nodes} AS n
            WHERE n.node_id IN (SELECT node_id FROM {touched})
                OR n.node_id IN (SELECT node_id FROM {newprof})
                OR n.guarded
                OR n.node_id IN (SELECT node_id FROM {guard} WHERE reason IS NOT NULL)
            """
        )
        self.sql(
            """
            UPDATE {nodes} SET first_seen = s.first_seen, last_seen = s.last_seen,
                undated = s.undated
            FROM {seen} AS s WHERE {nodes}.node_id = s.node_id AND s.observed > 0
            """
        )
        self.sql("DELETE FROM {nodes} WHERE node_id IN (SELECT node_id FROM {removed})")
        self.sql(
            """
            UPDATE {nodes} SET customers = g.customers, guarded = g.reason IS NOT NULL,
                guard_reason = g.reason
            FROM {guard} AS g
            WHERE {nodes}.node_id = g.node_id AND (
                {nodes}.customers <> g.customers OR {nodes}.guarded <> (g.reason IS NOT NULL)
                OR coalesce({nodes}.guard_reason, '') <> coalesce(g.reason, ''))
            """
        )
        self.sql("UPDATE {nodes} SET label = NULL, profile_id = NULL WHERE guarded")
        self.sql(
            """
            UPDATE {nodes} SET label = l.label FROM {labels} AS l
            WHERE {nodes}.node_id = l.node_id
                AND ({nodes}.label IS NULL OR {nodes}.label <> l.label)
            """
        )
        self.sql(
            """
            UPDATE {nodes} SET profile_id = p.profile_id FROM {newprof} AS p
            WHERE {nodes}.node_id = p.node_id
                AND ({nodes}.profile_id IS NULL OR {nodes}.profile_id <> p.profile_id)
            """
        )
        # A guarded identifier belongs to a profile only when all the identifiers it was seen
        # with that may merge belong to that one profile.
        self.sql(
            """
            UPDATE {nodes} SET profile_id = gp.profile_id FROM (
                SELECT x.x AS node_id, min(e.profile_id) AS profile_id
                FROM (
                    SELECT a AS x, b AS y FROM {links}
                    WHERE a IN (SELECT node_id FROM {nodes} WHERE guarded)
                    UNION ALL
                    SELECT b, a FROM {links} WHERE b IN (SELECT node_id FROM {nodes} WHERE guarded)
                ) AS x
                    JOIN {nodes} AS g ON g.node_id = x.x
                    JOIN {nodes} AS e ON e.node_id = x.y
                WHERE g.guarded AND NOT e.guarded
                GROUP BY x.x HAVING count(DISTINCT e.profile_id) = 1
            ) AS gp
            WHERE {nodes}.node_id = gp.node_id
            """
        )
        self.sql(
            """
            DELETE FROM {identities} WHERE EXISTS (
                SELECT 1 FROM {dirty_ids} AS d
                WHERE d.id_type = {identities}.id_type AND d.id_value = {identities}.id_value)
            """
        )
        self.sql(
            """
            INSERT INTO {identities} (id_type, id_value, profile_id, first_seen, last_seen)
            SELECT n.id_type, n.id_value, n.profile_id, n.first_seen, n.last_seen
            FROM {nodes} AS n
            WHERE n.node_id IN (SELECT node_id FROM {dirty_ids}) AND n.profile_id IS NOT NULL
            """
        )
        self.sql("DELETE FROM {guarded}")
        self.sql(
            """
            INSERT INTO {guarded}
            SELECT id_type, id_value, guard_reason, customers, profile_id, first_seen, last_seen
            FROM {nodes} WHERE guarded
            """
        )

    # -- reporting -----------------------------------------------------------------------------


# Scratch tables of one run, named ``_id_<name>`` (see _Build.tables).
_TEMPS = (
    "prev_all",
    "old_obs",
    "old_links",
    "obs_ins",
    "links_ins",
    "touched",
    "seen",
    "removed",
    "dirty",
    "fresh",
    "fresh_edges",
    "cc_fresh",
    "prelabel",
    "candidates",
    "members",
    "joins",
    "join_nodes",
    "cc_joins",
    "labels",
    "affected",
    "anchors",
    "newprof",
    "dirty_ids",
    "held_records",
)
