"""Connected components inside the engine, by label propagation.

Every node starts with its own id as label. Each round, a node takes the smallest label among
itself and its neighbours, then jumps to the label of its label (the label is a node of the same
component whose own label is never larger, so the jump is safe and shortens long chains). Rounds
repeat until no label changes; every node then carries the smallest node id of its component.
Each round is two joins and an aggregate over the edge table: set-based work the engine runs in
parallel and out of core, never a loop over rows in Python.
"""

from __future__ import annotations

from segmint.engines.base import Engine
from segmint.identity.sql import statement

#: A graph whose diameter needs more rounds than this is not an identity graph; stop loudly.
MAX_ROUNDS = 200

_EDGES = "_cc_edges"
_NEXT = "_cc_next"
_JUMP = "_cc_jump"


def connected_components(engine: Engine, nodes: str, edges: str, out: str) -> int:
    """Label every node of ``nodes`` with the smallest node id of its component.

    ``nodes`` is a query or table with one column ``node`` (BIGINT, distinct); ``edges`` one
    with columns ``a`` and ``b`` (undirected; both ends must be in ``nodes``). The result is
    the temporary table ``out`` (node, label). Returns the number of rounds it took.
    """
    tables = {"nodes": nodes, "edges": edges, "out": out, "e": _EDGES, "n": _NEXT, "j": _JUMP}
    engine.execute(
        statement(
            "CREATE OR REPLACE TEMPORARY TABLE {e} AS "
            "SELECT a AS src, b AS dst FROM {edges} AS x WHERE a <> b "
            "UNION SELECT b, a FROM {edges} AS y WHERE a <> b",
            tables,
        )
    )
    engine.execute(
        statement(
            "CREATE OR REPLACE TEMPORARY TABLE {out} AS "
            "SELECT node, node AS label FROM {nodes} AS n",
            tables,
        )
    )
    rounds = 0
    try:
        while True:
            rounds += 1
            if rounds > MAX_ROUNDS:
                raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
            engine.execute(
                statement(
                    """
                    CREATE OR REPLACE TEMPORARY TABLE {n} AS
                    SELECT l.node,
                        CASE WHEN m.label < l.label THEN m.label ELSE l.label END AS label
                    FROM {out} AS l LEFT JOIN (
                        SELECT e.src AS node, min(x.label) AS label
                        FROM {e} AS e JOIN {out} AS x ON x.node = e.dst
                        GROUP BY e.src
                    ) AS m ON m.node = l.node
                    """,
                    tables,
                )
            )
            engine.execute(
                statement(
                    """
                    CREATE OR REPLACE TEMPORARY TABLE {j} AS
                    SELECT n.node,
                        CASE WHEN p.label < n.label THEN p.label ELSE n.label END AS label
                    FROM {n} AS n JOIN {n} AS p ON p.node = n.label
                    """,
                    tables,
                )
            )
            changed = engine.fetch_value(
                statement(
                    "SELECT count(*) FROM {j} AS j JOIN {out} AS o ON o.node = j.node "
                    "WHERE j.label <> o.label",
                    tables,
                )
            )
            engine.execute(
                statement("CREATE OR REPLACE TEMPORARY TABLE {out} AS SELECT * FROM {j}", tables)
            )
            if not changed:
                return rounds
    finally:
        for name in (_EDGES, _NEXT, _JUMP):
            engine.drop_table(name)
