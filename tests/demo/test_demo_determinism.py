"""The same arguments give the same bytes; chunks, event volume and dirt are independent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from segmint.demo import DEFAULT_END_DATE, generate_store

if TYPE_CHECKING:
    from .conftest import Store


SMALL = dict(customers=300, events_per_customer=20, chunk_size=200)
CHUNKED_FILES = (
    "customers.csv", "orders.csv", "order_lines.csv", "shopify_orders.csv", "events.jsonl",
    "reviews.csv", "tickets.csv",
)  # fmt: skip


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_same_arguments_give_identical_files(tmp_path: Path) -> None:
    generate_store(tmp_path / "a", seed=5, **SMALL)
    generate_store(tmp_path / "b", seed=5, **SMALL)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == sorted([*CHUNKED_FILES, "products.csv", "manifest.json"])
    assert a == b


def test_a_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate_store(tmp_path / "a", seed=5, **SMALL)
    generate_store(tmp_path / "b", seed=6, **SMALL)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert all(a[name] != b[name] for name in (*CHUNKED_FILES, "products.csv"))


def test_each_chunk_is_generated_on_its_own(tmp_path: Path) -> None:
    # Two full chunks of 200 are the same bytes whether or not a third chunk follows.
    generate_store(tmp_path / "two", seed=5, customers=400, chunk_size=200, events_per_customer=20)
    generate_store(
        tmp_path / "three", seed=5, customers=500, chunk_size=200, events_per_customer=20
    )
    two, three = _files(tmp_path / "two"), _files(tmp_path / "three")
    assert two["products.csv"] == three["products.csv"]
    for name in CHUNKED_FILES:
        assert three[name].startswith(two[name]), name
        assert len(three[name]) > len(two[name]), name


def test_event_volume_does_not_change_the_other_files(tmp_path: Path) -> None:
    generate_store(tmp_path / "few", seed=5, **{**SMALL, "events_per_customer": 30})
    generate_store(tmp_path / "many", seed=5, **{**SMALL, "events_per_customer": 120})
    few, many = _files(tmp_path / "few"), _files(tmp_path / "many")
    for name in CHUNKED_FILES:
        if name != "events.jsonl":
            assert few[name] == many[name], name
    assert len(many["events.jsonl"]) > 2.5 * len(few["events.jsonl"])


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(any(line == other for other in it) for line in short)


def test_dirty_rows_are_added_beside_the_clean_rows(store: Store, clean_store: Store) -> None:
    # The dirty store is the clean store plus the dirty rows, nothing removed or changed.
    for entry in store.manifest.files:
        dirty_lines = (store.path / entry.path).read_text().splitlines()
        clean_lines = (clean_store.path / entry.path).read_text().splitlines()
        assert len(dirty_lines) - len(clean_lines) == sum(entry.dirty_rows.values()), entry.path
        assert _is_subsequence(clean_lines, dirty_lines), entry.path
        assert clean_store.manifest.file(entry.path).dirty_rows == {}


def test_the_window_ends_on_a_fixed_default_date(clean_store: Store) -> None:
    assert clean_store.manifest.end_date == DEFAULT_END_DATE.isoformat()
    last_order = max(r["ordered_at"] for r in clean_store.records("orders.csv"))
    assert last_order < f"{DEFAULT_END_DATE.isoformat()} 24"
    assert last_order > f"{DEFAULT_END_DATE.isoformat()} 00"[:7]  # orders up to the last month


def test_end_date_and_days_set_the_window(tmp_path: Path) -> None:
    from datetime import date

    m = generate_store(tmp_path / "s", seed=1, customers=200, events_per_customer=5,
                       end_date=date(2023, 3, 31), days=90)  # fmt: skip
    assert (m.start, m.end_date) == ("2023-01-01", "2023-03-31")
    text = (tmp_path / "s" / "orders.csv").read_text()
    stamps = [line.split(",")[3] for line in text.splitlines()[1:] if line.count(",") == 13]
    assert stamps and all("2023-01-01" <= s[:10] <= "2023-03-31" for s in stamps)
