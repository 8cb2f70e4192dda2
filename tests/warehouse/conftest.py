"""A small hand-made shop, built with the real pipeline, and a throwaway warehouse schema.

The shop: four customers imported from CSV, three orders, profiles built at a fixed clock
(2026-11-01, so every rebuild is as of the same time), and two segments run once:

- ada (C1): two orders, 100.00 on 2026-06-01 and 50.25 on 2026-08-15; London.
- ben (C2): one order, 20.00 on 2026-10-01; Lagos.
- cleo (C3): no order; opted out of marketing; Lyon.
- dev (C4): no order; Pune.

``buyers`` (order_count >= 1) holds ada and ben; ``big-spenders`` (total_spend >= 100) holds ada.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from segmint import Workspace
from segmint.config import save_config

CLOCK = datetime(2026, 11, 1)

CUSTOMERS = """\
customer_id,email,first_name,last_name,city,country,accepts_marketing,created_at,birth_date
C1,ada@example.com,Ada,Lovelace,London,GB,true,2026-01-05 09:00:00,1990-12-10
C2,ben@example.com,Ben,Okafor,Lagos,NG,true,2026-02-01 10:00:00,
C3,cleo@example.com,Cleo,Martin,Lyon,FR,false,2026-03-01 11:00:00,
C4,dev@example.com,Dev,Patel,Pune,IN,true,2026-04-01 12:00:00,
"""

ORDERS = """\
order_id,customer_id,email,ordered_at,status,currency,total
O1,C1,ada@example.com,2026-06-01 10:00:00,completed,EUR,100.00
O2,C1,ada@example.com,2026-08-15 10:00:00,completed,EUR,50.25
O3,C2,ben@example.com,2026-10-01 10:00:00,completed,EUR,20.00
"""

BUYERS = {
    "name": "buyers",
    "include": {"type": "trait", "trait": "order_count", "op": "gte", "value": 1},
}
BIG_SPENDERS = {
    "name": "big-spenders",
    "include": {"type": "trait", "trait": "total_spend", "op": "gte", "value": 100},
}


def fill_shop(ws: Workspace, data: Path) -> None:
    """Import the shop's files (written into ``data``), build profiles, run both segments."""
    data.mkdir(exist_ok=True)
    (data / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (data / "orders.csv").write_text(ORDERS, encoding="utf-8")
    ws.config = ws.config.model_copy(update={"clock": CLOCK})
    save_config(ws.root, ws.config)
    ws.import_file("customers", data / "customers.csv")
    ws.import_file("orders", data / "orders.csv")
    ws.build_profiles()
    for definition in (BUYERS, BIG_SPENDERS):
        ws.segments.create(definition)
        ws.segments.run(str(definition["name"]))


@pytest.fixture(scope="session")
def built_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop above, built once per session; tests work on copies."""
    root = tmp_path_factory.mktemp("warehouse") / "shop"
    with Workspace.init(root, name="Test shop") as ws:
        fill_shop(ws, root.parent / "data")
    return root


@pytest.fixture
def shop_root(built_shop: Path, tmp_path: Path) -> Path:
    """A fresh copy of the shop's folder."""
    return Path(shutil.copytree(built_shop, tmp_path / "shop"))


@pytest.fixture
def shop(shop_root: Path) -> Iterator[Workspace]:
    """A fresh copy of the shop, open."""
    with Workspace.open(shop_root) as ws:
        yield ws


@dataclass
class Warehouse:
    """A schema of the test PostgreSQL server that only this test uses."""

    url: str
    schema: str
    conn: Any

    def rows(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of a query in which ``{s}`` stands for the schema."""
        return list(self.conn.execute(query.format(s=self.schema), params).fetchall())

    def execute(self, statement: str) -> None:
        self.conn.execute(statement.format(s=self.schema))

    def value(self, query: str, params: list[Any] | None = None) -> Any:
        return self.rows(query, params)[0][0]

    def count(self, table: str) -> int:
        return int(self.value(f"SELECT count(*) FROM {{s}}.{table}"))

    def written_by(self, sync_id: str, table: str) -> int:
        """Rows of ``table`` that the sync ``sync_id`` inserted or updated.

        Every row version carries the id of the transaction that wrote it (``xmin``); the
        sync's own log rows were written by the same transaction.
        """
        return int(
            self.value(
                f"SELECT count(*) FROM {{s}}.{table} WHERE xmin = "
                "(SELECT xmin FROM {s}.sync_state WHERE sync_id = %s LIMIT 1)",
                [sync_id],
            )
        )

    def schema_exists(self) -> bool:
        return bool(
            self.value("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [self.schema])
        )


@pytest.fixture
def warehouse(postgres_url: str) -> Iterator[Warehouse]:
    """A unique schema name on the test server, dropped after the test."""
    import psycopg

    schema = f"segmint_wh_{uuid.uuid4().hex[:10]}"
    conn = psycopg.connect(postgres_url, autocommit=True)
    try:
        yield Warehouse(postgres_url, schema, conn)
    finally:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()
