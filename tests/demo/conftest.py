"""A small demo store written once for the demo tests, and readers for its files."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from segmint.demo import DemoManifest, generate_store

# Three chunks of 600 customers (the last one partial), so chunk boundaries are exercised.
STORE_ARGS: dict[str, Any] = dict(
    customers=1_500, seed=11, dirty_rate=0.01, events_per_customer=40, chunk_size=600
)


@dataclass
class Store:
    path: Path
    manifest: DemoManifest
    _events: tuple[list[dict[str, Any]], int] | None = field(default=None, repr=False)

    def rows(self, name: str) -> list[list[str]]:
        """Data rows of a CSV file, as the csv module splits them (header excluded)."""
        with open(self.path / name, newline="", encoding="utf-8") as f:
            return list(csv.reader(f))[1:]

    def header(self, name: str) -> list[str]:
        with open(self.path / name, newline="", encoding="utf-8") as f:
            return next(csv.reader(f))

    def records(self, name: str) -> list[dict[str, str]]:
        """Rows with exactly the header's fields, as dicts (dirty rows with more are left out)."""
        header = self.header(name)
        return [dict(zip(header, r, strict=True)) for r in self.rows(name) if len(r) == len(header)]

    def events(self) -> tuple[list[dict[str, Any]], int]:
        """Parsed events, and the number of lines that are not valid JSON (read once)."""
        if self._events is not None:
            return self._events
        parsed, broken = [], 0
        with open(self.path / "events.jsonl", encoding="utf-8") as f:
            for line in f:
                try:
                    parsed.append(json.loads(line))
                except json.JSONDecodeError:
                    broken += 1
        self._events = (parsed, broken)
        return self._events


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("demo") / "store"
    return Store(path, generate_store(path, **STORE_ARGS))


@pytest.fixture(scope="session")
def clean_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The same store without dirty rows."""
    path = tmp_path_factory.mktemp("demo-clean") / "store"
    return Store(path, generate_store(path, **{**STORE_ARGS, "dirty_rate": 0.0}))


@pytest.fixture(scope="session")
def very_dirty(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store with a third of its rows dirty, so every kind of dirty row is there."""
    path = tmp_path_factory.mktemp("very-dirty") / "store"
    return Store(path, generate_store(path, customers=1_000, seed=4, dirty_rate=0.3,
                                      events_per_customer=30, products=200))  # fmt: skip


@pytest.fixture(scope="session")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Enough buyers (and no events) to fit a BG/NBD model to."""
    path = tmp_path_factory.mktemp("bgnbd") / "store"
    return Store(path, generate_store(path, customers=6_000, seed=21, dirty_rate=0,
                                      events_per_customer=0, chunk_size=3_000))  # fmt: skip
