"""Re-imports upsert on the natural key: counts say what changed, nothing lands twice."""

from __future__ import annotations

from pathlib import Path

from segmint import Workspace

from .conftest import query, write

FIRST = "customer_id,email,city\nC1,a@x.com,Berlin\nC2,b@x.com,Paris\nC3,c@x.com,Rome\n"
# C2 unchanged, C3 moved, C4 new.
SECOND = "customer_id,email,city\nC2,b@x.com,Paris\nC3,c@x.com,Milan\nC4,d@x.com,Oslo\n"


def test_same_file_twice_changes_nothing(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "c.csv", FIRST)
    first = ws.import_file("customers", path)
    loaded = query(ws, "SELECT customer_id, _loaded_at, _import_id FROM customers ORDER BY 1")
    second = ws.import_file("customers", path)

    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    # Unchanged rows are not written again: they still carry the first run's id and time.
    assert query(ws, "SELECT customer_id, _loaded_at, _import_id FROM customers ORDER BY 1") == (
        loaded
    )
    assert query(ws, "SELECT inserted, updated, rejected FROM imports ORDER BY started_at") == [
        (3, 0, 0),
        (0, 0, 0),
    ]


def test_overlapping_file_updates_and_inserts(ws: Workspace, tmp_path: Path):
    first = ws.import_file("customers", write(tmp_path / "a.csv", FIRST))
    second = ws.import_file("customers", write(tmp_path / "b.csv", SECOND))

    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (1, 1, 1, 0)
    assert query(ws, "SELECT customer_id, city, _import_id FROM customers ORDER BY 1") == [
        ("C1", "Berlin", first.import_id),
        ("C2", "Paris", first.import_id),
        ("C3", "Milan", second.import_id),
        ("C4", "Oslo", second.import_id),
    ]


def test_a_value_becoming_empty_counts_as_a_change(ws: Workspace, tmp_path: Path):
    ws.import_file("customers", write(tmp_path / "a.csv", "customer_id,city\nC1,Rome\n"))
    result = ws.import_file("customers", write(tmp_path / "b.csv", "customer_id,city\nC1,\n"))
    assert (result.updated, result.unchanged) == (1, 0)
    assert query(ws, "SELECT city FROM customers") == [(None,)]


def test_composite_key_upsert_for_order_lines(ws: Workspace, tmp_path: Path):
    header = "order_id,line_number,quantity,unit_price\n"
    ws.import_file("order_lines", write(tmp_path / "a.csv", header + "A,1,1,5\nA,2,1,5\n"))
    result = ws.import_file(
        "order_lines", write(tmp_path / "b.csv", header + "A,2,3,5\nA,3,1,5\nB,1,1,1\n")
    )
    assert (result.inserted, result.updated, result.unchanged) == (2, 1, 0)
    assert query(ws, "SELECT order_id, line_number, quantity FROM order_lines ORDER BY 1, 2") == [
        ("A", 1, 1),
        ("A", 2, 3),
        ("A", 3, 1),
        ("B", 1, 1),
    ]
