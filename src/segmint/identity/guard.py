"""The over-merge guard: identifiers that would glue strangers together merge nothing.

A shared family tablet's anonymous id, ``test@example.com`` typed at every checkout, or the
shop's own phone number on many customer records are each seen with many different customer
ids. Used as links they would fold those customers into one "person". The guard counts, for
every email, phone and anonymous id, the distinct customer ids it links:

- customer ids seen in the same records as the identifier, and
- customer ids seen with the identifiers it shares records with (one step further), so an
  anonymous id that never logged in but signed up five different emails of five different
  customers is caught too. Identifiers already held back do not pass counts along, so one
  junk address cannot drag every device that once typed it into the guard.

An identifier linking more than ``max_customers_per_identifier`` customers, or on the deny list
(any type, customer ids included), is *guarded*: its links are not used to build components.
"""

from __future__ import annotations

from sqlglot import exp

from segmint.config import IdentityConfig
from segmint.engines.base import Engine
from segmint.identity.normalize import deny_condition
from segmint.identity.sql import statement

GUARD = "_id_guard"
_CHANGED = "_id_g_changed"
_NEAR = "_id_g_near"
_REACH = "_id_g_reach"
_PAIRS = "_id_g_pairs"
_D1 = "_id_d1"
_G1 = "_id_g1"
_D2 = "_id_d2"


def compute_guard(
    engine: Engine, tables: dict[str, str], config: IdentityConfig, *, incremental: bool
) -> None:
    """Fill ``_id_guard``: (node_id, customers, reason) for the nodes counted in this run.

    ``reason`` is NULL when the node may merge. A full build counts every node still observed.
    An incremental one recounts only the nodes whose count can have changed: those within one
    link of a link that appeared or disappeared in this run (their two-step counts read one
    link further); every other node keeps the count and reason stored in the nodes table.
    ``tables`` must name ``links``, ``nodes``, ``links_ins``, ``old_links``, ``touched`` and
    ``removed``.
    """
    deny = deny_condition(
        exp.column("id_value", table="n"), config.deny_list, config.default_phone_region
    ).sql("duckdb")
    names = {
        **tables,
        "guard": GUARD,
        "changed_ends": _CHANGED,
        "near": _NEAR,
        "reach": _REACH,
        "gpairs": _PAIRS,
        "d1": _D1,
        "g1": _G1,
        "d2": _D2,
    }
    limit = config.max_customers_per_identifier
    steps: list[str] = []
    if incremental:
        neighbours = (
            "SELECT node_id FROM {src} UNION "
            "SELECT l.b FROM {links} AS l JOIN {src} AS s ON s.node_id = l.a UNION "
            "SELECT l.a FROM {links} AS l JOIN {src} AS s ON s.node_id = l.b"
        )
        steps += [
            """
            CREATE OR REPLACE TEMPORARY TABLE {changed_ends} AS
            SELECT a AS node_id FROM {links_ins} UNION SELECT b FROM {links_ins}
            UNION SELECT a FROM {old_links} UNION SELECT b FROM {old_links}
            UNION SELECT node_id FROM {touched}
            """,
            # near: nodes whose count may change; reach: the nodes their counts read.
            "CREATE OR REPLACE TEMPORARY TABLE {near} AS "
            + neighbours.replace("{src}", "{changed_ends}"),
            "CREATE OR REPLACE TEMPORARY TABLE {reach} AS " + neighbours.replace("{src}", "{near}"),
            """
            CREATE OR REPLACE TEMPORARY TABLE {gpairs} AS
            SELECT DISTINCT l.a, l.b FROM {links} AS l
            WHERE l.a IN (SELECT node_id FROM {reach}) OR l.b IN (SELECT node_id FROM {reach})
            """,
        ]
        in_reach = "n.node_id IN (SELECT node_id FROM {reach})"
        in_near = "n.node_id IN (SELECT node_id FROM {near})"
    else:
        steps.append(
            "CREATE OR REPLACE TEMPORARY TABLE {gpairs} AS SELECT DISTINCT a, b FROM {links}"
        )
        in_reach = in_near = "TRUE"
    steps += [
        # Customer ids seen in the same records as each identifier.
        """
        CREATE OR REPLACE TEMPORARY TABLE {d1} AS
        SELECT p.a AS node_id, p.b AS cust FROM {gpairs} AS p
            JOIN {nodes} AS c ON c.node_id = p.b WHERE c.id_type = 'customer_id'
        UNION
        SELECT p.b, p.a FROM {gpairs} AS p
            JOIN {nodes} AS c ON c.node_id = p.a WHERE c.id_type = 'customer_id'
        """,
        # Held back on direct evidence alone: these pass no counts along.
        f"""
        CREATE OR REPLACE TEMPORARY TABLE {{g1}} AS
        SELECT n.node_id FROM {{nodes}} AS n WHERE {in_reach} AND {deny}
        UNION
        SELECT d.node_id FROM {{d1}} AS d JOIN {{nodes}} AS n ON n.node_id = d.node_id
        WHERE n.id_type <> 'customer_id' GROUP BY d.node_id HAVING count(*) > :limit
        """,
        f"""
        CREATE OR REPLACE TEMPORARY TABLE {{d2}} AS
        SELECT node_id, count(DISTINCT cust) AS customers FROM (
            SELECT node_id, cust FROM {{d1}}
            UNION ALL
            SELECT x.x AS node_id, d.cust
            FROM (SELECT a AS x, b AS y FROM {{gpairs}} UNION ALL SELECT b, a FROM {{gpairs}}) AS x
                JOIN {{nodes}} AS nx ON nx.node_id = x.x
                JOIN {{nodes}} AS ny ON ny.node_id = x.y
                JOIN {{d1}} AS d ON d.node_id = x.y
            WHERE nx.id_type <> 'customer_id' AND ny.id_type <> 'customer_id'
                AND NOT EXISTS (SELECT 1 FROM {{g1}} AS g WHERE g.node_id = x.y)
                AND {in_near.replace("n.node_id", "x.x")}
        ) AS links GROUP BY node_id
        """,
        f"""
        CREATE OR REPLACE TEMPORARY TABLE {{guard}} AS
        SELECT n.node_id, coalesce(d.customers, 0) AS customers,
            CASE WHEN {deny} THEN 'deny list'
                WHEN n.id_type <> 'customer_id' AND coalesce(d.customers, 0) > :limit
                THEN 'links ' || CAST(d.customers AS VARCHAR) || ' customers (more than '
                    || CAST(:limit AS VARCHAR) || ')'
            END AS reason
        FROM {{nodes}} AS n LEFT JOIN {{d2}} AS d ON d.node_id = n.node_id
        WHERE {in_near}
            AND NOT EXISTS (SELECT 1 FROM {{removed}} AS r WHERE r.node_id = n.node_id)
        """,
    ]
    for step in steps:
        engine.execute(statement(step, names, limit=limit))
    for name in (_CHANGED, _NEAR, _REACH, _PAIRS, _D1, _G1, _D2):
        engine.drop_table(name)
