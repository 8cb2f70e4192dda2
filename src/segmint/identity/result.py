"""What a build reports: :class:`IdentityResult`, and the run's row in ``identity_runs``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from segmint.engines.base import Engine
from segmint.identity import extract
from segmint.identity.sql import statement


@dataclass
class IdentityResult:
    """What an identity build did and what the graph looks like after it."""

    run_id: str
    mode: str
    """``full`` or ``incremental``."""
    profiles: int = 0
    """Distinct profiles after the run."""
    identifiers: int = 0
    """Rows of ``identities`` after the run."""
    merges: int = 0
    """Profile merges recorded in this run (see ``identity_merges``)."""
    splits: int = 0
    """Profiles split in this run (an identifier became guarded, or a record changed)."""
    guarded: int = 0
    """Identifiers held back by the over-merge guard after the run."""
    unresolved: dict[str, int] = field(default_factory=dict)
    """Records in scope that resolve to no profile, per source table."""
    invalid_phones: int = 0
    """Phone numbers in records in scope that are not valid numbers (not identifiers)."""
    invalid_emails: int = 0
    """Email values (mostly identify traits) that do not look like an address."""
    records_read: int = 0
    """Source records read in this run."""
    phones_parsed: int = 0
    """Distinct phone texts parsed in this run (the others were in the lookup table)."""
    rounds: int = 0
    """Label propagation rounds this run needed."""
    as_of: datetime | None = None
    prefix: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat() if self.as_of else None
        return data


def summarize(engine: Engine, tables: dict[str, str], result: IdentityResult) -> None:
    """Fill the result's counts from the tables a build just wrote."""

    def value(template: str) -> Any:
        return engine.fetch_value(statement(template, tables))

    result.profiles = int(value("SELECT count(DISTINCT label) FROM {nodes} WHERE NOT guarded"))
    result.identifiers = engine.count_rows(tables["identities"])
    result.guarded = engine.count_rows(tables["guarded"])
    invalid = dict(
        engine.fetch_all(
            statement("SELECT id_type, count(*) FROM {invalid} GROUP BY id_type", tables)
        )
    )
    result.invalid_phones = int(invalid.get("phone", 0))
    result.invalid_emails = int(invalid.get("email", 0))
    # Unresolved: records read without any valid identifier, plus records whose
    # identifiers are all guarded and belong to no single profile.
    engine.execute(
        statement(
            """
            CREATE OR REPLACE TEMPORARY TABLE {held_records} AS
            SELECT DISTINCT o.source, o.source_key FROM {observations} AS o
            WHERE o.node_id IN (SELECT node_id FROM {nodes} WHERE profile_id IS NULL)
            """,
            tables,
        )
    )
    unresolved = dict(
        engine.fetch_all(
            statement(
                f"""
                SELECT source, count(*) FROM (
                    SELECT source, source_key FROM {{invalid}}
                    WHERE id_type = '{extract.NO_IDENTIFIER}'
                    UNION ALL
                    (SELECT source, source_key FROM {{held_records}}
                    EXCEPT
                    SELECT o.source, o.source_key FROM {{observations}} AS o
                        JOIN {{held_records}} AS h
                            ON h.source = o.source AND h.source_key = o.source_key
                        JOIN {{nodes}} AS n ON n.node_id = o.node_id
                    WHERE n.profile_id IS NOT NULL)
                ) AS records GROUP BY source
                """,
                tables,
            )
        )
    )
    result.unresolved = {s.table: int(unresolved.get(s.table, 0)) for s in extract.SOURCES}


def record_run(
    engine: Engine,
    tables: dict[str, str],
    result: IdentityResult,
    *,
    started_at: datetime,
    settings: str,
    watermarks: dict[str, datetime | None],
) -> None:
    """Append the run's row to ``identity_runs``."""
    marks = {k: v.isoformat() if v else None for k, v in watermarks.items()}
    engine.execute(
        statement(
            """
            INSERT INTO {runs} VALUES (:run_id, :started_at, :finished_at, :mode, :as_of,
                :settings, :watermarks, :records, :profiles, :identifiers, :merges, :guarded)
            """,
            tables,
            run_id=result.run_id,
            started_at=started_at,
            finished_at=datetime.now(UTC).replace(tzinfo=None),
            mode=result.mode,
            as_of=result.as_of,
            settings=settings,
            watermarks=json.dumps(marks, sort_keys=True),
            records=result.records_read,
            profiles=result.profiles,
            identifiers=result.identifiers,
            merges=result.merges,
            guarded=result.guarded,
        )
    )
