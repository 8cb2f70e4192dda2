"""One person's profile: traits, identifiers, merge history and a timeline of what they did."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segmint.engines.base import Engine
from segmint.profiles.sources import RecordResolver, identity_resolver
from segmint.profiles.sql import ProfileTables, statement
from segmint.profiles.types import ProfilesError, ProfileView

if TYPE_CHECKING:
    from segmint.config import IdentityConfig

#: Identifier types in the order a bare value is tried (as in identity resolution).
_ID_TYPES = ("customer_id", "email", "phone", "anonymous_id")


def require_profiles(engine: Engine, tables: ProfileTables) -> None:
    """Raise a clear error when no profile build has written these tables yet."""
    if not engine.table_exists(tables.profiles):
        where = f" with prefix {tables.prefix!r}" if tables.prefix else ""
        raise ProfilesError(f"no profiles{where} yet: run `segmint profiles build` first")


def show_profile(
    engine: Engine,
    key: str,
    *,
    identity_config: IdentityConfig | None = None,
    prefix: str = "",
    timeline_limit: int = 50,
    resolver: RecordResolver | None = None,
) -> ProfileView:
    """Everything known about the person an email, phone, customer id, anonymous id or
    profile id belongs to. ``type:value`` (``phone:+4915...``) names the identifier's type.

    The timeline holds the latest ``timeline_limit`` orders, events, reviews and tickets up to
    the profile's build date, newest first.
    """
    if timeline_limit < 1:
        raise ProfilesError("the timeline limit must be at least 1")
    tables = ProfileTables(prefix)
    require_profiles(engine, tables)
    profile_id = find_profile(engine, tables, key, identity_config)
    names = {
        "profiles": tables.profiles,
        "identities": tables.identities,
        "category_stats": tables.category_stats,
        "email_stats": tables.email_stats,
    }
    traits = _rows(engine, "SELECT * FROM {profiles} WHERE profile_id = :p", names, p=profile_id)
    identifiers = []
    if engine.table_exists(tables.identities):
        identifiers = _rows(
            engine,
            "SELECT id_type, id_value, first_seen, last_seen FROM {identities} "
            "WHERE profile_id = :p ORDER BY id_type, id_value",
            names,
            p=profile_id,
        )
    view = ProfileView(
        profile_id=profile_id,
        traits=traits[0],
        identifiers=identifiers,
        merges=_merges(engine, profile_id, identity_config, prefix),
        category_stats=_rows(
            engine,
            "SELECT * FROM {category_stats} WHERE profile_id = :p "
            "ORDER BY dimension, spend DESC, value",
            names,
            p=profile_id,
        ),
        email_stats=_rows(
            engine,
            "SELECT * FROM {email_stats} WHERE profile_id = :p ORDER BY category",
            names,
            p=profile_id,
        ),
        timeline=[],
    )
    timeline = _timeline(
        engine,
        tables,
        profile_id,
        traits[0]["as_of"],
        timeline_limit + 1,
        resolver or identity_resolver(),
    )
    view.timeline = timeline[:timeline_limit]
    view.timeline_truncated = len(timeline) > timeline_limit
    return view


def find_profile(
    engine: Engine, tables: ProfileTables, key: str, identity_config: IdentityConfig | None
) -> str:
    """The profile id a user-typed key names (see :func:`show_profile`)."""
    text = key.strip()
    if not text:
        raise ProfilesError("give an email, phone, customer id, anonymous id or profile id")
    names = {"profiles": tables.profiles, "identities": tables.identities}
    direct = _rows(engine, "SELECT profile_id FROM {profiles} WHERE profile_id = :k", names, k=text)
    if direct:
        return str(direct[0]["profile_id"])
    if not engine.table_exists(tables.identities):
        raise ProfilesError(f"no profile found for {key!r}")
    found: list[str] = []
    for id_type, value in _candidates(text, identity_config):
        rows = _rows(
            engine,
            "SELECT i.profile_id FROM {identities} AS i JOIN {profiles} AS p "
            "ON p.profile_id = i.profile_id WHERE i.id_type = :t AND i.id_value = :v",
            names,
            t=id_type,
            v=value,
        )
        found += [str(r["profile_id"]) for r in rows if r["profile_id"] not in found]
    if not found:
        raise ProfilesError(f"no profile found for {key!r}")
    if len(found) > 1:
        raise ProfilesError(
            f"{key!r} matches {len(found)} profiles ({', '.join(found)}); "
            "name the identifier type, e.g. customer_id:42 or anonymous_id:42"
        )
    return found[0]


def _candidates(text: str, config: IdentityConfig | None) -> list[tuple[str, str]]:
    """(type, normalised value) pairs a key may mean; identity resolution's own rules when it
    is configured (phone numbers to E.164, optional email provider rules)."""
    if config is not None:
        from segmint.identity.explain import candidate_identifiers

        return candidate_identifiers(text, config)
    kind, sep, rest = text.partition(":")
    if sep and kind in _ID_TYPES:
        return [(kind, rest.strip().lower() if kind == "email" else rest.strip())]
    pairs = [("email", text.lower())] if "@" in text else []
    return pairs + [(t, text) for t in _ID_TYPES if t != "email"]


def _merges(
    engine: Engine, profile_id: str, config: IdentityConfig | None, prefix: str
) -> list[dict[str, Any]]:
    """The identity module's merge history of the profile (empty without identity state)."""
    if config is None or not engine.table_exists(f"{prefix}identity_nodes"):
        return []
    from segmint.identity import explain_identity

    explanation = explain_identity(engine, profile_id, config, prefix=prefix)
    return list(explanation.merges)


def _timeline(
    engine: Engine,
    tables: ProfileTables,
    profile_id: str,
    as_of: Any,
    limit: int,
    resolver: RecordResolver,
) -> list[dict[str, Any]]:
    def resolved(kind: str) -> str:
        return resolver(kind, prefix=tables.prefix).sql(dialect="duckdb")

    query = """
        WITH ro AS ({orders}), re AS ({events}), rv AS ({reviews}), rt AS ({tickets})
        SELECT * FROM (
          SELECT o.ordered_at AS at, 'order' AS kind, o.order_id AS id,
                 COALESCE(o.status, 'completed') || ' ' || CAST(o.total AS VARCHAR)
                   || COALESCE(' ' || o.currency, '') AS detail
          FROM orders AS o JOIN ro ON ro.order_id = o.order_id
          WHERE ro.profile_id = :p AND o.ordered_at <= :as_of
          UNION ALL
          SELECT e."timestamp", 'event', e.message_id,
                 COALESCE(e.event, e.type) || COALESCE(' ' || e.properties, '')
          FROM events AS e JOIN re ON re.message_id = e.message_id
          WHERE re.profile_id = :p AND e."timestamp" <= :as_of
          UNION ALL
          SELECT v.reviewed_at, 'review', v.review_id,
                 CAST(v.rating AS VARCHAR) || '/5' || COALESCE(' ' || v.title, '')
          FROM reviews AS v JOIN rv ON rv.review_id = v.review_id
          WHERE rv.profile_id = :p AND v.reviewed_at <= :as_of
          UNION ALL
          SELECT t.created_at, 'ticket', t.ticket_id,
                 COALESCE(t.status, 'open') || COALESCE(' ' || t.subject, '')
          FROM tickets AS t JOIN rt ON rt.ticket_id = t.ticket_id
          WHERE rt.profile_id = :p AND t.created_at <= :as_of
        ) AS timeline
        ORDER BY at DESC, kind, id
        LIMIT :limit
    """
    parts = {k: resolved(k) for k in ("orders", "events", "reviews", "tickets")}
    return _rows(engine, query, parts, p=profile_id, as_of=as_of, limit=limit)


def _rows(
    engine: Engine, template: str, names: dict[str, str], **values: Any
) -> list[dict[str, Any]]:
    query = statement(template, names, **values)
    return engine.fetch_arrow(query).to_pylist()
