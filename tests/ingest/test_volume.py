"""Files of thousands of rows: the checks hold across the engine's internal batch boundaries."""

from __future__ import annotations

from pathlib import Path

from segmint import Workspace

from .conftest import query

STATUSES = ("completed", "pending", "refunded", "partially_refunded", "cancelled")


def test_twelve_thousand_orders_counts_are_exact(ws: Workspace, tmp_path: Path):
    lines = ["order_id,customer_id,ordered_at,status,total"]
    for i in range(12_000):
        order_id = f"O{i - 1}" if i % 4000 == 5 else f"O{i}"  # repeats the previous row's id
        total = "n/a" if i % 1000 == 7 else f"{i % 500}.25"
        status = "shipped" if i % 1500 == 8 else STATUSES[i % 5]
        lines.append(f"{order_id},C{i % 700},2024-01-01 00:00:00 -0500,{status},{total}")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = ws.import_file("orders", path)

    # 12 bad totals (i = 7, 1007, ...), 8 unknown statuses (i = 8, 1508, ...), and 3 rows
    # superseded by the next row's repeated id (i = 4, 4004, 8004): none of them overlap.
    assert (result.rows_read, result.rejected, result.inserted) == (12_000, 23, 11_977)
    by_reason = dict(
        query(
            ws,
            "SELECT split_part(reason, ':', 1), count(*) FROM quarantine GROUP BY 1",
        )
    )
    assert by_reason == {"total": 12, "status": 8, "duplicate order_id O4": 1,
                         "duplicate order_id O4004": 1, "duplicate order_id O8004": 1}  # fmt: skip
    # Every allowed status stayed allowed, in every batch of rows. 2,400 rows per status
    # (i % 5), less the rejected ones: bad totals have i % 5 == 2 (refunded, -12), unknown
    # statuses replace i % 5 == 3 (partially_refunded, -8), superseded rows have i % 5 == 4
    # (cancelled, -3).
    assert query(ws, "SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1") == [
        ("cancelled", 2397),
        ("completed", 2400),
        ("partially_refunded", 2392),
        ("pending", 2400),
        ("refunded", 2388),
    ]
