"""The merge audit: every profile id that stopped being used, where its people went, and why.

After a build has worked out the new profile of every identifier in a changed component, the
old and new profile of each identifier are compared:

- ``merge``: identifiers of several old profiles now share one profile. The surviving id is the
  older profile's (its anchor was seen first); the audit row names the link that joined them:
  the two identifiers and the source record that holds both.
- ``split``: identifiers of one old profile now belong to several, because an identifier that
  held them together became guarded (named in the reason) or a record that linked them changed.
- ``reanchor``: the same people keep a new id, because an identifier seen earlier than the old
  anchor joined them (an older record arrived late).

Identifiers with no old profile (first seen in this run) are growth, not a change of profile.
"""

from __future__ import annotations

from datetime import UTC, datetime

from segmint.engines.base import Engine
from segmint.identity.sql import statement

_CHANGE = "_id_change"
_MOVES = "_id_moves"
_WITNESS = "_id_witness"


def record_changes(engine: Engine, tables: dict[str, str], run_id: str) -> tuple[int, int]:
    """Append this run's merges, splits and re-anchorings to ``identity_merges``.

    Reads ``prev_all`` (id_type, id_value, profile_id before the run), ``newprof`` (node_id,
    profile_id after it), ``nodes`` (still holding the state before the run), ``links`` and
    ``guard``. Returns (merges, splits) recorded.
    """
    names = {**tables, "change": _CHANGE, "moves": _MOVES, "witness": _WITNESS}

    def run(template: str, **values: object) -> None:
        engine.execute(statement(template, names, **values))

    run(
        """
        CREATE OR REPLACE TEMPORARY TABLE {change} AS
        SELECT n.node_id, n.id_type, n.id_value, pv.profile_id AS old_p, np.profile_id AS new_p
        FROM {prev_all} AS pv
            JOIN {nodes} AS n ON n.id_type = pv.id_type AND n.id_value = pv.id_value
            LEFT JOIN {newprof} AS np ON np.node_id = n.node_id
        """
    )
    run(
        """
        CREATE OR REPLACE TEMPORARY TABLE {moves} AS
        WITH pairs AS (SELECT DISTINCT old_p, new_p FROM {change} WHERE new_p IS NOT NULL),
            splitting AS (SELECT old_p FROM pairs GROUP BY old_p HAVING count(*) > 1),
            merging AS (SELECT new_p FROM pairs GROUP BY new_p HAVING count(*) > 1)
        SELECT p.old_p, p.new_p,
            CASE WHEN p.old_p IN (SELECT old_p FROM splitting) THEN 'split'
                WHEN p.new_p IN (SELECT new_p FROM merging) THEN 'merge'
                ELSE 'reanchor' END AS action
        FROM pairs AS p WHERE p.old_p <> p.new_p
        """
    )
    # The earliest link from an identifier of the old profile to one of the new profile that
    # did not belong to the old profile: the record that explains the move.
    run(
        """
        CREATE OR REPLACE TEMPORARY TABLE {witness} AS
        SELECT * FROM (
            SELECT m.old_p, m.new_p, l.x, l.y, l.source, l.source_key, l.seen_at,
                row_number() OVER (
                    PARTITION BY m.old_p, m.new_p
                    ORDER BY l.seen_at NULLS FIRST, l.source, l.source_key, l.x, l.y
                ) AS position
            FROM {moves} AS m
                JOIN {change} AS c1 ON c1.old_p = m.old_p AND c1.new_p = m.new_p
                JOIN (
                    SELECT a AS x, b AS y, source, source_key, seen_at FROM {links}
                    WHERE a IN (SELECT node_id FROM {change} WHERE old_p <> new_p)
                    UNION ALL
                    SELECT b, a, source, source_key, seen_at FROM {links}
                    WHERE b IN (SELECT node_id FROM {change} WHERE old_p <> new_p)
                ) AS l ON l.x = c1.node_id
                JOIN {newprof} AS n2 ON n2.node_id = l.y AND n2.profile_id = m.new_p
                LEFT JOIN {change} AS c2 ON c2.node_id = l.y
            WHERE m.action <> 'split' AND (c2.old_p IS NULL OR c2.old_p <> m.old_p)
        ) AS ranked WHERE position = 1
        """
    )
    run(
        """
        INSERT INTO {merges}
        SELECT :run_id, :recorded_at, m.action, m.old_p, m.new_p,
            na.id_type, na.id_value, nb.id_type, nb.id_value, w.source, w.source_key, w.seen_at,
            CASE m.action
                WHEN 'merge' THEN 'a record links identifiers of both profiles; '
                    || 'the profile seen first keeps its id'
                WHEN 'reanchor' THEN 'an identifier seen earlier joined the profile; '
                    || 'its id now derives from ' || anchor.id_type || ' ' || anchor.id_value
                ELSE 'no longer linked: ' || coalesce(
                    held.what, 'a record that linked them changed or left the build')
            END
        FROM {moves} AS m
            LEFT JOIN {witness} AS w ON w.old_p = m.old_p AND w.new_p = m.new_p
            LEFT JOIN {nodes} AS na ON na.node_id = w.x
            LEFT JOIN {nodes} AS nb ON nb.node_id = w.y
            LEFT JOIN {anchors} AS anchor ON anchor.profile_id = m.new_p
            LEFT JOIN (
                SELECT c.old_p, min(c.id_type || ' ' || c.id_value || ' is now held back ('
                    || g.reason || ')') AS what
                FROM {change} AS c JOIN {guard} AS g ON g.node_id = c.node_id
                WHERE g.reason IS NOT NULL GROUP BY c.old_p
            ) AS held ON held.old_p = m.old_p
        """,
        run_id=run_id,
        recorded_at=datetime.now(UTC).replace(tzinfo=None),
    )
    counts = dict(
        engine.fetch_all(statement("SELECT action, count(*) FROM {moves} GROUP BY action", names))
    )
    for name in (_CHANGE, _MOVES, _WITNESS):
        engine.drop_table(name)
    return int(counts.get("merge", 0)), int(counts.get("split", 0))
