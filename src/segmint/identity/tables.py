"""The tables identity resolution keeps, and how their names take a prefix.

``identities`` is the contract other modules read (the profile builder above all). The others
are identity resolution's own state, kept so that an incremental run only works on what changed:

- ``identity_observations``: one row per identifier seen in a source record;
- ``identity_links``: one row per pair of identifiers seen in the same source record;
- ``identity_nodes``: one row per distinct identifier, with its component and profile;
- ``identity_guarded``, ``identity_merges``, ``identity_runs``: what users read to understand a
  result (held-back identifiers, the merge audit, the history of runs);
- ``identity_invalid``: phone numbers and emails that were not identifiers, by record.

``identity_phone_lookup`` caches phone numbers already parsed. It holds no result, only the
E.164 form of raw text, so every prefix shares it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from segmint.model.tables import Column, ColumnType, Table

S, N, T, B = ColumnType.STRING, ColumnType.INTEGER, ColumnType.TIMESTAMP, ColumnType.BOOLEAN

#: Identifier types, in resolution precedence: a record with several identifiers resolves
#: through the first one that belongs to a profile.
ID_TYPES: tuple[str, ...] = ("customer_id", "email", "phone", "anonymous_id")

IDENTITIES = Table(
    name="identities",
    description="Every identifier that belongs to a profile: one person, one profile_id.",
    key=("id_type", "id_value"),
    columns=(
        Column("id_type", S, "customer_id, email, phone or anonymous_id.", required=True),
        Column(
            "id_value",
            S,
            "The identifier, normalised (emails lower-cased, phones E.164).",
            required=True,
        ),
        Column("profile_id", S, "The person this identifier belongs to.", required=True),
        Column("first_seen", T, "Earliest record time with this identifier (UTC)."),
        Column("last_seen", T, "Latest record time with this identifier (UTC)."),
    ),
)

OBSERVATIONS = Table(
    name="identity_observations",
    description="One row per identifier seen in a source record.",
    key=(),
    columns=(
        Column("source", S, "Source table: customers, orders, events, reviews or tickets."),
        Column("source_key", S, "The record's key in its source table."),
        Column("node_id", N, "The identifier (see identity_nodes)."),
        Column("id_rank", N, "Resolution precedence of the identifier's type (0 first)."),
        Column("seen_at", T, "The record's time (NULL: a customer without created_at)."),
    ),
)

LINKS = Table(
    name="identity_links",
    description="One row per pair of identifiers seen together in a source record.",
    key=(),
    columns=(
        Column("source", S, "Source table of the record."),
        Column("source_key", S, "The record's key."),
        Column("a", N, "The lower node id of the pair."),
        Column("b", N, "The higher node id of the pair."),
        Column("seen_at", T, "The record's time."),
    ),
)

NODES = Table(
    name="identity_nodes",
    description="One row per distinct identifier: its component, profile and guard status.",
    key=(),
    columns=(
        Column("node_id", N, "Internal id, only meaningful within one set of tables."),
        Column("id_type", S, "Identifier type."),
        Column("id_value", S, "Normalised identifier."),
        Column("id_rank", N, "Precedence of the type (customer_id 0 ... anonymous_id 3)."),
        Column("first_seen", T, "Earliest record time."),
        Column("last_seen", T, "Latest record time."),
        Column("undated", B, "Seen in a record without a time (a customer without created_at)."),
        Column("customers", N, "Distinct customer ids the identifier links (the guard count)."),
        Column("guarded", B, "Held back by the over-merge guard."),
        Column("guard_reason", S, "Why it is held back."),
        Column("label", N, "Connected component (NULL for guarded identifiers)."),
        Column("profile_id", S, "The profile; for guarded ones only when unambiguous."),
    ),
)

GUARDED = Table(
    name="identity_guarded",
    description="Identifiers the over-merge guard holds back, and why.",
    key=("id_type", "id_value"),
    columns=(
        Column("id_type", S, "Identifier type."),
        Column("id_value", S, "Normalised identifier."),
        Column("reason", S, "deny list, or how many customers it links."),
        Column("customers", N, "Distinct customer ids it links."),
        Column("profile_id", S, "The one profile it belongs to, when unambiguous."),
        Column("first_seen", T, "Earliest record time."),
        Column("last_seen", T, "Latest record time."),
    ),
)

MERGES = Table(
    name="identity_merges",
    description="Audit of profile ids that merged, split or were re-anchored, run by run.",
    key=(),
    columns=(
        Column("run_id", S, "The build run (see identity_runs)."),
        Column("recorded_at", T, "When the run recorded it (UTC)."),
        Column("action", S, "merge, split or reanchor."),
        Column("from_profile_id", S, "The profile id that stopped being used for these people."),
        Column("to_profile_id", S, "The profile id they now belong to."),
        Column("a_type", S, "Type of the first identifier of the link that caused it."),
        Column("a_value", S, "Value of the first identifier."),
        Column("b_type", S, "Type of the second identifier."),
        Column("b_value", S, "Value of the second identifier."),
        Column("source", S, "Source table of the record that holds the link."),
        Column("source_key", S, "Key of that record."),
        Column("record_time", T, "Time of that record."),
        Column("reason", S, "Why, in words."),
    ),
)

RUNS = Table(
    name="identity_runs",
    description="One row per identity build.",
    key=("run_id",),
    columns=(
        Column("run_id", S, "Run id."),
        Column("started_at", T, "Start (UTC)."),
        Column("finished_at", T, "End (UTC)."),
        Column("mode", S, "full or incremental."),
        Column("as_of", T, "Only records up to this time were used (NULL: all)."),
        Column("settings", S, "The identity settings the run used, as JSON."),
        Column("watermarks", S, "Latest _loaded_at read per source table, as JSON."),
        Column("records", N, "Source records read in this run."),
        Column("profiles", N, "Profiles after the run."),
        Column("identifiers", N, "Identifiers in identities after the run."),
        Column("merges", N, "Profile merges recorded in this run."),
        Column("guarded", N, "Guarded identifiers after the run."),
    ),
)

INVALID = Table(
    name="identity_invalid",
    description="Phone numbers and emails in source records that are not identifiers.",
    key=(),
    columns=(
        Column("source", S, "Source table."),
        Column("source_key", S, "The record's key."),
        Column("id_type", S, "phone or email."),
        Column("raw_value", S, "The text as found."),
    ),
)

PHONE_LOOKUP = Table(
    name="identity_phone_lookup",
    description="Phone numbers already parsed: raw text and region to E.164 (NULL: invalid).",
    key=("raw", "region"),
    columns=(
        Column("raw", S, "Phone number as written, trimmed."),
        Column("region", S, "Region used to read it."),
        Column("e164", S, "E.164 form; NULL when it is not a valid number."),
    ),
)

#: State tables that belong to one build (and take its prefix), in creation order.
STATE_TABLES: tuple[Table, ...] = (
    OBSERVATIONS,
    LINKS,
    NODES,
    IDENTITIES,
    GUARDED,
    MERGES,
    RUNS,
    INVALID,
)

_PREFIX = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class TableNames:
    """The physical names of the identity tables for one prefix."""

    prefix: str = ""

    def __post_init__(self) -> None:
        if self.prefix and not _PREFIX.match(self.prefix):
            from segmint.identity.errors import IdentityError

            raise IdentityError(
                f"table prefix {self.prefix!r} must start with a lower-case letter and hold "
                "only lower-case letters, digits and underscores (e.g. 'asof_20250101_')"
            )

    def __call__(self, table: Table | str) -> str:
        name = table if isinstance(table, str) else table.name
        if name == PHONE_LOOKUP.name:
            return name
        return f"{self.prefix}{name}"

    @property
    def observations(self) -> str:
        return self(OBSERVATIONS)

    @property
    def links(self) -> str:
        return self(LINKS)

    @property
    def nodes(self) -> str:
        return self(NODES)

    @property
    def identities(self) -> str:
        return self(IDENTITIES)

    @property
    def guarded(self) -> str:
        return self(GUARDED)

    @property
    def merges(self) -> str:
        return self(MERGES)

    @property
    def runs(self) -> str:
        return self(RUNS)

    @property
    def invalid(self) -> str:
        return self(INVALID)

    @property
    def phone_lookup(self) -> str:
        return self(PHONE_LOOKUP)

    def mapping(self) -> dict[str, str]:
        """Names to substitute into SQL templates (``{nodes}``, ``{links}``, ...)."""
        return {
            "observations": self.observations,
            "links": self.links,
            "nodes": self.nodes,
            "identities": self.identities,
            "guarded": self.guarded,
            "merges": self.merges,
            "runs": self.runs,
            "invalid": self.invalid,
            "phone_lookup": self.phone_lookup,
        }
