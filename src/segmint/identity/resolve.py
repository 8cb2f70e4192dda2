"""Which profile each source record belongs to: the query other modules build on."""

from __future__ import annotations

from sqlglot import exp

from segmint.identity.errors import IdentityError
from segmint.identity.extract import SOURCE_BY_KIND
from segmint.identity.sql import statement
from segmint.identity.tables import TableNames


def resolved_records(kind: str, *, prefix: str = "") -> exp.Select:
    """A SELECT of (record key, ``profile_id``) for every record of ``kind`` that resolves.

    ``kind`` is customers, orders, events, reviews or tickets; the key column keeps its source
    name (customer_id, order_id, message_id, review_id, ticket_id). A record with several
    identifiers resolves through the first that belongs to a profile, in the order customer id
    (an event's user_id), email, phone, anonymous id. Records that resolve to nothing are left
    out (``build_identity`` counts them). Reflects the last build with this ``prefix``.

    >>> engine.fetch_arrow(resolved_records("orders"))   # doctest: +SKIP
    """
    source = SOURCE_BY_KIND.get(kind)
    if source is None:
        known = ", ".join(SOURCE_BY_KIND)
        raise IdentityError(f"cannot resolve records of {kind!r}; kinds: {known}")
    names = TableNames(prefix)
    query = statement(
        f"""
        SELECT source_key AS {source.key}, profile_id FROM (
            SELECT o.source_key, n.profile_id, row_number() OVER (
                PARTITION BY o.source_key ORDER BY o.id_rank, n.id_value) AS position
            FROM {{observations}} AS o JOIN {{nodes}} AS n ON n.node_id = o.node_id
            WHERE o.source = :kind AND n.profile_id IS NOT NULL
        ) AS ranked WHERE position = 1
        """,
        names.mapping(),
        kind=kind,
    )
    assert isinstance(query, exp.Select)
    return query
