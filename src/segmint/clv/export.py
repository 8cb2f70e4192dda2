"""The pLTV export: one predicted value per customer, ready for value-based bidding.

Ad platforms take customer lists keyed by hashed identifiers with a value per person (Google
Ads customer match with conversion value, Meta value-based lookalikes). Emails are hashed after
trimming and lower-casing, phones in E.164 form, both with SHA-256, as those platforms expect.
People who opted out of marketing are left out unless asked for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmint.clv.base import CLVInputError
from segmint.engines.base import Engine, parse_sql

_QUERY = """
SELECT profile_id,
       customer_id,
       email,
       SHA256(LOWER(TRIM(email))) AS email_sha256,
       SHA256(phone) AS phone_sha256,
       ROUND(clv_predicted_12m, 2) AS predicted_value_12m,
       clv_p_alive AS probability_alive,
       clv_decile
FROM profiles
WHERE clv_predicted_12m IS NOT NULL {consent}
ORDER BY clv_predicted_12m DESC, profile_id
"""


@dataclass
class PLTVExport:
    path: str
    format: str
    rows: int
    total_value: float
    include_opted_out: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_pltv(
    engine: Engine, path: Path, *, format: str | None = None, include_opted_out: bool = False
) -> PLTVExport:
    """Write every buyer's predicted 12-month value with hashed identifiers to CSV or Parquet."""
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "parquet"):
        raise CLVInputError(f"cannot tell the format of {path.name!r}: use --format csv or parquet")
    if not engine.table_exists("profiles"):
        raise CLVInputError("no profiles yet: run `segmint profiles build` and `segmint clv fit`")
    consent = "" if include_opted_out else "AND accepts_marketing IS DISTINCT FROM FALSE"
    query = parse_sql(_QUERY.format(consent=consent))
    if not engine.fetch_value("SELECT count(clv_predicted_12m) FROM profiles"):
        raise CLVInputError("no predictions yet: run `segmint clv fit`")
    partial = path.with_name(path.name + ".partial")
    rows, total = 0, 0.0
    writer: Any = None
    try:
        for batch in engine.fetch_batches(query):
            if writer is None:
                writer = (
                    pq.ParquetWriter(partial, batch.schema)
                    if fmt == "parquet"
                    else pacsv.CSVWriter(partial, batch.schema)
                )
            writer.write_batch(batch)
            rows += batch.num_rows
            values = batch.column("predicted_value_12m").cast(pa.float64())
            total += float(pa.compute.sum(values).as_py() or 0.0)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise CLVInputError("no customer to export (everyone with a prediction opted out)")
    partial.replace(path)
    return PLTVExport(str(path), fmt, rows, round(total, 2), include_opted_out)
