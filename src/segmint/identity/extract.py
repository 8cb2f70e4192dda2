"""Reading identifiers out of the source tables.

Each source record yields the identifiers it holds (a customer id, an email, a phone number, an
anonymous id). Records are read when they are new or changed since the last run (their
``_loaded_at`` is past the run's watermark for that table; rows without ``_loaded_at`` are
always read again) and, for an ``as_of`` build, only when their time is not after ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from segmint.config import IdentityConfig
from segmint.engines.base import Engine, create_table_as
from segmint.identity.normalize import email_is_valid_sql, email_sql
from segmint.identity.sql import statement
from segmint.identity.tables import ID_TYPES, TableNames

# Temporary tables of one run (connection-local).
CHANGED = "_id_changed"
RAW = "_id_raw"
OBS_NEW = "_id_obs_new"
EMPTY = "_id_empty"

#: ``identity_invalid.id_type`` of a record read without any valid identifier.
NO_IDENTIFIER = "none"


@dataclass(frozen=True)
class Source:
    """How one source table holds identifiers."""

    table: str
    key: str
    time: str
    identifiers: tuple[tuple[str, str], ...]
    """(identifier type, SQL expression over the table's columns giving the raw text)."""
    region: str | None = None
    """SQL giving a two-letter region for phone numbers, when the table has one."""
    time_optional: bool = False
    """Records without a time are always in scope (customers without created_at)."""


#: Stands for "the text of key K of the traits JSON": filled in by the engine's json_text.
_TRAIT = "{{trait:{key}}}"


#: The source tables and the identifiers each holds. The Segment userId is the store's customer
#: id, so ``user_id`` lands in the customer_id namespace; an alias call's ``previous_id`` is
#: the anonymous id the user is being linked from.
SOURCES: tuple[Source, ...] = (
    Source(
        "customers",
        key="customer_id",
        time="created_at",
        identifiers=(("customer_id", "customer_id"), ("email", "email"), ("phone", "phone")),
        region=(
            "CASE WHEN length(trim(country)) = 2 AND upper(trim(country)) IN ({regions}) "
            "THEN upper(trim(country)) END"
        ),
        time_optional=True,
    ),
    Source(
        "orders",
        key="order_id",
        time="ordered_at",
        identifiers=(("customer_id", "customer_id"), ("email", "email")),
    ),
    Source(
        "events",
        key="message_id",
        time='"timestamp"',
        identifiers=(
            ("customer_id", "user_id"),
            ("anonymous_id", "anonymous_id"),
            ("anonymous_id", "CASE WHEN lower(type) = 'alias' THEN previous_id END"),
            ("email", _TRAIT.format(key="email")),
            ("phone", _TRAIT.format(key="phone")),
        ),
    ),
    Source(
        "reviews",
        key="review_id",
        time="reviewed_at",
        identifiers=(("customer_id", "customer_id"), ("email", "email")),
    ),
    Source(
        "tickets",
        key="ticket_id",
        time="created_at",
        identifiers=(("customer_id", "customer_id"), ("email", "email")),
    ),
)

SOURCE_BY_KIND: dict[str, Source] = {s.table: s for s in SOURCES}


def in_scope_condition(source: Source) -> str:
    """SQL condition: the record's time is not after :as_of."""
    if source.time_optional:
        return f"({source.time} IS NULL OR {source.time} <= :as_of)"
    return f"{source.time} <= :as_of"


def _changed(watermark: datetime | None) -> str:
    if watermark is None:
        return "TRUE"
    return "(_loaded_at > :watermark OR _loaded_at IS NULL)"


def watermarks(engine: Engine) -> dict[str, datetime | None]:
    """The latest ``_loaded_at`` of every source table: what this run will have read."""
    return {
        s.table: engine.fetch_value(statement(f"SELECT max(_loaded_at) FROM {s.table}", {}))
        for s in SOURCES
    }


def changed_keys(engine: Engine, previous: dict[str, datetime | None]) -> None:
    """Fill ``_id_changed`` (source, source_key) with records new or changed since last run."""
    parts = [
        f"SELECT '{s.table}' AS source, CAST({s.key} AS VARCHAR) AS source_key FROM {s.table} "
        f"WHERE {_changed(previous.get(s.table))}"
        for s in SOURCES
    ]
    selects = [
        statement(part, {}, **_values(watermark=previous.get(s.table)))
        for part, s in zip(parts, SOURCES, strict=True)
    ]
    union = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False)
    engine.execute(create_table_as(CHANGED, union, temporary=True))


def _traits(engine: Engine, sql: str) -> str:
    """Replace a ``{trait:key}`` marker by the engine's way to read a JSON text field."""
    if not sql.startswith("{trait:"):
        return sql
    key = sql[len("{trait:") : -1]
    # Malformed traits yield NULL (json_text's contract): one bad event must not fail a build.
    return engine.json_text(exp.column("traits"), key).sql("duckdb")


def _values(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def extract_raw(
    engine: Engine,
    config: IdentityConfig,
    *,
    previous: dict[str, datetime | None] | None,
    as_of: datetime | None,
) -> int:
    """Fill ``_id_raw`` with the raw identifiers of records to read; return how many records.

    ``previous`` holds the last run's watermarks (None: read every record). ``_id_raw`` has
    (source, source_key, id_type, raw, region, seen_at) with ``raw`` trimmed and not empty.
    """
    import phonenumbers

    regions = ", ".join(f"'{r}'" for r in sorted(phonenumbers.SUPPORTED_REGIONS))
    engine.execute(
        statement(
            "CREATE OR REPLACE TEMPORARY TABLE {raw} (source VARCHAR, source_key VARCHAR, "
            "id_type VARCHAR, raw VARCHAR, region VARCHAR, seen_at TIMESTAMP)",
            {"raw": RAW},
        )
    )
    engine.execute(
        statement(
            "CREATE OR REPLACE TEMPORARY TABLE {empty} (source VARCHAR, source_key VARCHAR)",
            {"empty": EMPTY},
        )
    )
    records = 0
    for source in SOURCES:
        conditions = []
        if previous is not None:
            conditions.append(_changed(previous.get(source.table)))
        if as_of is not None:
            conditions.append(in_scope_condition(source))
        where = " AND ".join(conditions) or "TRUE"
        region = (source.region or "NULL").format(regions=regions)
        columns = ", ".join(
            f"NULLIF(trim(CAST({_traits(engine, sql)} AS VARCHAR)), '') AS id{i}"
            for i, (_, sql) in enumerate(source.identifiers)
        )
        rec = f"_id_rec_{source.table}"
        engine.execute(
            create_table_as(
                rec,
                statement(
                    f"SELECT CAST({source.key} AS VARCHAR) AS source_key, "
                    f"CAST({source.time} AS TIMESTAMP) AS seen_at, "
                    f"coalesce({region}, :default_region) AS region, {columns} "
                    f"FROM {source.table} WHERE {where}",
                    {},
                    **_values(
                        watermark=(previous or {}).get(source.table),
                        as_of=as_of,
                        default_region=config.default_phone_region,
                    ),
                ),
                temporary=True,
            )
        )
        records += engine.count_rows(rec)
        selects = " UNION ALL ".join(
            f"SELECT '{source.table}', source_key, '{id_type}', id{i}, "
            f"{'region' if id_type == 'phone' else 'NULL'}, seen_at FROM {rec} "
            f"WHERE id{i} IS NOT NULL"
            for i, (id_type, _) in enumerate(source.identifiers)
        )
        engine.execute(statement(f"INSERT INTO {{raw}} {selects}", {"raw": RAW}))
        no_ids = " AND ".join(f"id{i} IS NULL" for i in range(len(source.identifiers)))
        engine.execute(
            statement(
                f"INSERT INTO {{empty}} SELECT '{source.table}', source_key FROM {rec} "
                f"WHERE {no_ids}",
                {"empty": EMPTY},
            )
        )
        engine.drop_table(rec)
    return records


def normalize_raw(engine: Engine, names: TableNames, config: IdentityConfig) -> None:
    """Turn ``_id_raw`` into ``_id_obs_new`` (valid identifiers) and ``identity_invalid`` rows.

    Phone numbers must already be in the lookup (see
    :func:`segmint.identity.normalize.parse_new_phones`).
    """
    email = email_sql(exp.column("raw"), provider_rules=config.email_provider_rules)
    valid = email_is_valid_sql(email)
    rank = "CASE id_type " + " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(ID_TYPES))
    tables = {**names.mapping(), "raw": RAW, "obs_new": OBS_NEW, "empty": EMPTY}
    engine.execute(
        statement(
            f"""
            CREATE OR REPLACE TEMPORARY TABLE {{obs_new}} AS
            SELECT DISTINCT source, source_key, id_type, id_value, {rank} END AS id_rank, seen_at
            FROM (
                SELECT source, source_key, id_type, raw AS id_value, seen_at FROM {{raw}}
                WHERE id_type IN ('customer_id', 'anonymous_id')
                UNION ALL
                SELECT source, source_key, id_type, {email.sql("duckdb")}, seen_at FROM {{raw}}
                WHERE id_type = 'email' AND {valid.sql("duckdb")}
                UNION ALL
                SELECT r.source, r.source_key, r.id_type, l.e164, r.seen_at
                FROM {{raw}} AS r JOIN {{phone_lookup}} AS l
                    ON l.raw = r.raw AND l.region = r.region
                WHERE r.id_type = 'phone' AND l.e164 IS NOT NULL
            ) AS ids
            """,
            tables,
        )
    )
    engine.execute(
        statement(
            f"""
            INSERT INTO {{invalid}}
            SELECT source, source_key, id_type, raw FROM {{raw}}
            WHERE id_type = 'email' AND NOT coalesce({valid.sql("duckdb")}, FALSE)
            UNION ALL
            SELECT r.source, r.source_key, r.id_type, r.raw
            FROM {{raw}} AS r JOIN {{phone_lookup}} AS l ON l.raw = r.raw AND l.region = r.region
            WHERE r.id_type = 'phone' AND l.e164 IS NULL
            """,
            tables,
        )
    )
    # Records with no valid identifier at all resolve to nobody: keep them to be counted.
    engine.execute(
        statement(
            f"""
            INSERT INTO {{invalid}}
            SELECT source, source_key, '{NO_IDENTIFIER}', NULL FROM (
                SELECT source, source_key FROM {{empty}}
                UNION
                SELECT r.source, r.source_key FROM {{raw}} AS r WHERE NOT EXISTS (
                    SELECT 1 FROM {{obs_new}} AS o
                    WHERE o.source = r.source AND o.source_key = r.source_key)
            ) AS records
            """,
            tables,
        )
    )
