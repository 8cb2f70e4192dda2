"""Explaining a result: a profile, its identifiers, the links and merges that made it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlglot import exp

from segmint.config import IdentityConfig
from segmint.engines.base import Engine
from segmint.identity.errors import IdentityError
from segmint.identity.normalize import normalize_email, normalize_phone
from segmint.identity.sql import statement
from segmint.identity.tables import ID_TYPES, TableNames

#: Links shown for one profile; a profile held together by more is summarised by the count.
MAX_LINKS = 200
#: How far back through merged-away ids the history is followed.
MAX_MERGE_DEPTH = 20


@dataclass
class IdentityExplanation:
    """Everything ``identity show`` prints about one identifier or profile."""

    query: str
    profile_id: str | None
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    links_total: int = 0
    merges: list[dict[str, Any]] = field(default_factory=list)
    guarded: list[dict[str, Any]] = field(default_factory=list)
    """Guarded identifiers seen with this profile (they did not merge anything)."""
    records: dict[str, int] = field(default_factory=dict)
    """Source records per table that carry the profile's identifiers."""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(engine: Engine, template: str, names: TableNames, **values: Any) -> list[dict[str, Any]]:
    query = statement(template, names.mapping(), **values)
    # fetch_all, not fetch_arrow: rows are few, and the names come from the SELECT list.
    columns = query.named_selects if isinstance(query, exp.Query) else []
    return [dict(zip(columns, row, strict=True)) for row in engine.fetch_all(query)]


def candidate_identifiers(text: str, config: IdentityConfig) -> list[tuple[str, str]]:
    """The (type, normalised value) pairs an identifier typed by a user may mean.

    ``email:a@b.com`` names the type; a bare value is tried as every type it can be.
    """
    text = text.strip()
    if not text:
        raise IdentityError("give an identifier: an email, a phone, a customer id or a profile id")
    kind, sep, rest = text.partition(":")
    if sep and kind in ID_TYPES:
        types: tuple[str, ...] = (kind,)
        text = rest.strip()
    else:
        types = ID_TYPES
    found: list[tuple[str, str]] = []
    for id_type in types:
        if id_type == "email":
            if "@" in text:
                found.append(("email", normalize_email(text, provider_rules=False)))
                if config.email_provider_rules:
                    found.append(("email", normalize_email(text, provider_rules=True)))
        elif id_type == "phone":
            phone = normalize_phone(text, config.default_phone_region)
            if phone:
                found.append(("phone", phone))
        else:
            found.append((id_type, text))
    return list(dict.fromkeys(found))


def explain_identity(
    engine: Engine, identifier: str, config: IdentityConfig, *, prefix: str = ""
) -> IdentityExplanation:
    """Look up an identifier (or a profile id) and explain the profile it belongs to."""
    names = TableNames(prefix)
    if not engine.table_exists(names.nodes):
        raise IdentityError("no identity build yet: run `segmint identity build` first")
    result = IdentityExplanation(query=identifier, profile_id=None)
    profile_id = _profile_of(engine, names, identifier.strip(), config, result)
    if profile_id is None:
        return result
    result.profile_id = profile_id
    values = {"profile_id": profile_id}
    result.identifiers = _rows(
        engine,
        """
        SELECT id_type, id_value, first_seen, last_seen, guarded, guard_reason
        FROM {nodes} WHERE profile_id = :profile_id ORDER BY id_rank, id_value
        """,
        names,
        **values,
    )
    members = "SELECT node_id FROM {nodes} WHERE profile_id = :profile_id AND NOT guarded"
    result.links_total = int(
        engine.fetch_value(
            statement(
                f"SELECT count(*) FROM {{links}} WHERE a IN ({members}) AND b IN ({members})",
                names.mapping(),
                **values,
            )
        )
    )
    result.links = _rows(
        engine,
        f"""
        SELECT na.id_type AS a_type, na.id_value AS a_value, nb.id_type AS b_type,
            nb.id_value AS b_value, l.source, l.source_key, l.seen_at
        FROM {{links}} AS l
            JOIN {{nodes}} AS na ON na.node_id = l.a
            JOIN {{nodes}} AS nb ON nb.node_id = l.b
        WHERE l.a IN ({members}) AND l.b IN ({members})
        ORDER BY l.seen_at NULLS FIRST, l.source, l.source_key
        LIMIT {MAX_LINKS}
        """,
        names,
        **values,
    )
    result.guarded = _rows(
        engine,
        f"""
        SELECT DISTINCT g.id_type, g.id_value, g.guard_reason AS reason, g.customers,
            g.profile_id
        FROM {{links}} AS l JOIN {{nodes}} AS g ON g.node_id = l.a OR g.node_id = l.b
        WHERE g.guarded AND (l.a IN ({members}) OR l.b IN ({members}))
        ORDER BY g.id_type, g.id_value
        """,
        names,
        **values,
    )
    result.records = {
        str(source): int(count)
        for source, count in engine.fetch_all(
            statement(
                """
                SELECT source, count(DISTINCT source_key) FROM {observations}
                WHERE node_id IN (SELECT node_id FROM {nodes} WHERE profile_id = :profile_id)
                GROUP BY source ORDER BY source
                """,
                names.mapping(),
                **values,
            )
        )
    }
    result.merges = _merge_history(engine, names, profile_id)
    return result


def _profile_of(
    engine: Engine,
    names: TableNames,
    identifier: str,
    config: IdentityConfig,
    result: IdentityExplanation,
) -> str | None:
    """The profile an identifier or profile id stands for; fills ``result.note`` when none."""
    if identifier.startswith("p_"):
        if engine.fetch_value(
            statement(
                "SELECT count(*) FROM {nodes} WHERE profile_id = :p", names.mapping(), p=identifier
            )
        ):
            return identifier
        successor = engine.fetch_one(
            statement(
                "SELECT to_profile_id, action FROM {merges} WHERE from_profile_id = :p "
                "ORDER BY recorded_at DESC LIMIT 1",
                names.mapping(),
                p=identifier,
            )
        )
        if successor:
            result.note = f"{identifier} is no longer used ({successor[1]}): now {successor[0]}"
            result.merges = _merge_history(engine, names, str(successor[0]))
            return None
    for id_type, id_value in candidate_identifiers(identifier, config):
        row = engine.fetch_one(
            statement(
                "SELECT profile_id, guarded, guard_reason FROM {nodes} "
                "WHERE id_type = :t AND id_value = :v",
                names.mapping(),
                t=id_type,
                v=id_value,
            )
        )
        if row is None:
            continue
        profile_id, guarded, reason = row
        if guarded:
            result.note = f"{id_type} {id_value} is held back by the over-merge guard ({reason})"
            result.guarded = _rows(
                engine,
                "SELECT id_type, id_value, reason, customers, profile_id FROM {guarded} "
                "WHERE id_type = :t AND id_value = :v",
                names,
                t=id_type,
                v=id_value,
            )
            if profile_id is None:
                result.note += "; it belongs to no single profile"
                return None
            result.note += f"; all its links point to {profile_id}"
        return str(profile_id)
    result.note = f"no identifier {identifier!r} in the identity graph"
    return None


def _merge_history(engine: Engine, names: TableNames, profile_id: str) -> list[dict[str, Any]]:
    """Audit rows about this profile and, transitively, the profiles that merged into it."""
    seen: set[str] = set()
    frontier = {profile_id}
    rows: list[dict[str, Any]] = []
    for _ in range(MAX_MERGE_DEPTH):
        if not frontier:
            break
        seen |= frontier
        ids = ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(frontier))
        found = _rows(
            engine,
            f"""
            SELECT run_id, recorded_at, action, from_profile_id, to_profile_id, a_type, a_value,
                b_type, b_value, source, source_key, record_time, reason
            FROM {{merges}} WHERE to_profile_id IN ({ids}) OR from_profile_id IN ({ids})
            """,
            names,
        )
        rows.extend(r for r in found if r not in rows)
        frontier = {str(r["from_profile_id"]) for r in found} - seen
    rows.sort(key=lambda r: (r["recorded_at"], r["from_profile_id"], r["to_profile_id"]))
    return rows


def guarded_identifiers(engine: Engine, *, prefix: str = "") -> list[dict[str, Any]]:
    """Identifiers held back by the over-merge guard, most customers first."""
    names = TableNames(prefix)
    if not engine.table_exists(names.guarded):
        raise IdentityError("no identity build yet: run `segmint identity build` first")
    return _rows(
        engine,
        "SELECT id_type, id_value, reason, customers, profile_id, first_seen, last_seen "
        "FROM {guarded} ORDER BY customers DESC, id_type, id_value",
        names,
    )
