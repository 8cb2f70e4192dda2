"""Write a whole synthetic store to a folder, chunk by chunk, and describe it in a manifest.

Customers are generated in chunks of ``chunk_size``. Everything about a chunk (its customers,
orders, reviews, tickets, events and dirty rows) comes from random generators seeded by
``(seed, chunk number, stream)`` and from ids reserved for that chunk, so a chunk's bytes do not
depend on the other chunks: the output is the same however the work is scheduled, and memory
stays bounded by one chunk. Each stream has its own generator, so changing the event volume
does not change the orders, and changing the dirty rate does not change the clean rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from segmint.console import Console, NullConsole
from segmint.demo import dirty, eventlines, exports, feedback, text
from segmint.demo.calendar import StoreCalendar, acquisition_weights
from segmint.demo.campaigns import Campaigns, build_campaigns, simulate_email
from segmint.demo.catalogue import Catalogue, build_catalogue
from segmint.demo.events import EventTable, simulate_events
from segmint.demo.orders import COUPONS, Orders, generate_orders
from segmint.demo.people import People, customer_ids, generate_people
from segmint.demo.vocab import USER_AGENTS
from segmint.errors import SegmintError
from segmint.model.tables import IMPORTABLE

EventsFormat = Literal["jsonl", "parquet"]

DEFAULT_END_DATE = date(2026, 10, 31)
"""A fixed default, so the same arguments give the same files on any day."""
DEFAULT_EVENTS_PER_CUSTOMER = 100.0
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1

# Events per customer that do not scale (orders' sessions, identity calls) and that scale
# linearly with the browsing and email intensity (at intensity 1: 2.5 campaigns a week, a
# browsing session every 25 days on average while engaged); measured on 20,000 customers of
# the default store, so ``events_per_customer`` is met to within a few percent.
_FIXED_EVENTS_PER_CUSTOMER = 27.9
_SCALED_EVENTS_PER_CUSTOMER = 173.0
_CAMPAIGNS_PER_WEEK = 2.5
_STORE_GROWTH_PER_YEAR = 0.6
_LEGACY_SHARE = 0.4
"""Share of the window, from its start, the store ran on Shopify (the legacy export)."""
_EVENT_BLOCK = 100_000
_DIRTY_CUSTOMER_BASE = 50_000_000
"""Broken copies of customer rows get ids from here on, so no clean customer has them."""

# Random streams of a chunk.
_PEOPLE, _ORDERS, _FEEDBACK, _EMAIL, _EVENTS, _DIRTY, _IDS = range(7)


@dataclass
class ManifestFile:
    """One file of the demo store: what to import it as, and what it holds."""

    path: str
    kind: str
    """The import KIND (canonical table)."""
    format: str
    """csv, jsonl, parquet or shopify-orders."""
    rows: int = 0
    """Data rows in the file (clean and dirty; the CSV header is not a row)."""
    dirty_rows: dict[str, int] = field(default_factory=dict)
    """Dirty rows by kind (bad_email, negative_quantity, ...)."""
    orders: int | None = None
    """Shopify export: orders (its rows are line items)."""

    @property
    def clean_rows(self) -> int:
        return self.rows - sum(self.dirty_rows.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["clean_rows"] = self.clean_rows
        data["dirty_rows"] = dict(sorted(self.dirty_rows.items()))
        if self.orders is None:
            del data["orders"]
        return data


@dataclass
class DemoManifest:
    """What ``generate_store`` wrote: the options and every file, in import order."""

    seed: int
    customers: int
    days: int
    start: str
    end_date: str
    dirty_rate: float
    events_per_customer: float
    events_format: str
    products: int
    chunk_size: int
    files: list[ManifestFile]

    def file(self, name: str) -> ManifestFile:
        for f in self.files:
            if f.path == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "files"}
        return {
            "generator": "segmint demo-data",
            "manifest_version": MANIFEST_VERSION,
            **data,
            "files": [f.to_dict() for f in self.files],
        }


def _validate(
    customers: int,
    days: int,
    dirty_rate: float,
    events_format: str,
    events_per_customer: float,
    products: int,
    chunk_size: int,
) -> None:
    if customers < 1:
        raise SegmintError(f"--customers must be at least 1 (got {customers})")
    if customers > _DIRTY_CUSTOMER_BASE:
        raise SegmintError(f"--customers must be at most {_DIRTY_CUSTOMER_BASE:,}")
    if not 30 <= days <= 3_650:
        raise SegmintError(f"--days must be between 30 and 3650 (got {days})")
    if not 0 <= dirty_rate <= 0.5:
        raise SegmintError(f"--dirty-rate must be between 0 and 0.5 (got {dirty_rate})")
    if events_format not in ("jsonl", "parquet"):
        raise SegmintError(f"--events-format must be jsonl or parquet (got {events_format!r})")
    if not 0 <= events_per_customer <= 100_000:
        raise SegmintError(
            f"--events-per-customer must be between 0 and 100000 (got {events_per_customer})"
        )
    if not 50 <= products <= 5_000:
        raise SegmintError(f"--products must be between 50 and 5000 (got {products})")
    if not 100 <= chunk_size <= 1_000_000:
        raise SegmintError(f"chunk size must be between 100 and 1,000,000 (got {chunk_size})")


def _prepare(out_dir: Path) -> None:
    """Create the folder, or clear a previous demo store from it; never touch other files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SegmintError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        manifest = out_dir / MANIFEST
        if not manifest.is_file():
            raise SegmintError(
                f"{out_dir} is not empty and holds no {MANIFEST}: choose an empty folder "
                "(or one a previous `segmint demo-data` wrote, which is then replaced)"
            )
        try:
            previous = json.loads(manifest.read_text())
            names = [f["path"] for f in previous["files"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise SegmintError(f"{manifest} is not a demo store manifest: {exc}") from exc
        manifest.unlink()
        for name in names:
            path = out_dir / Path(name).name
            if path.is_file():
                path.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def generate_store(
    out_dir: str | Path,
    *,
    customers: int,
    seed: int = 0,
    days: int = 730,
    end_date: date | None = None,
    dirty_rate: float = 0.002,
    events_format: EventsFormat = "jsonl",
    events_per_customer: float = DEFAULT_EVENTS_PER_CUSTOMER,
    products: int = 800,
    chunk_size: int = 10_000,
    console: Console | None = None,
) -> DemoManifest:
    """Write a synthetic store's import files and ``manifest.json`` to ``out_dir``.

    The same arguments always give byte-identical files. ``end_date`` is the last day of data
    (default :data:`DEFAULT_END_DATE`); the store covers the ``days`` days up to it.

    >>> m = generate_store("/tmp/demo", customers=1_000, seed=7)  # doctest: +SKIP
    >>> [(f.path, f.rows) for f in m.files][:2]                   # doctest: +SKIP
    [('products.csv', 801), ('customers.csv', 1002)]
    """
    console = console or NullConsole()
    _validate(customers, days, dirty_rate, events_format, events_per_customer, products, chunk_size)
    out = Path(out_dir)
    _prepare(out)
    calendar = StoreCalendar.build(end_date or DEFAULT_END_DATE, days)
    # None: no events at all; otherwise the browsing and email intensity.
    scale = (
        max(0.0, (events_per_customer - _FIXED_EVENTS_PER_CUSTOMER) / _SCALED_EVENTS_PER_CUSTOMER)
        if events_per_customer > 0
        else None
    )
    if 0 < events_per_customer < _FIXED_EVENTS_PER_CUSTOMER:
        console.warn(
            f"about {_FIXED_EVENTS_PER_CUSTOMER:.0f} events per customer come with the orders "
            "(checkout sessions, sign-ups); below that, only browsing and email are left out"
        )
    catalogue = build_catalogue(_rng(seed, 0), products)
    campaigns = build_campaigns(_rng(seed, 1), calendar, _CAMPAIGNS_PER_WEEK * (scale or 0.0))
    site = eventlines.SiteFragments.build(catalogue, campaigns)
    weights = acquisition_weights(calendar, _STORE_GROWTH_PER_YEAR)
    acquisition_cdf = np.cumsum(weights) / weights.sum()
    migration_at = calendar.start + int(_LEGACY_SHARE * (calendar.end - calendar.start))
    capacity = 10 ** math.ceil(math.log10(50 * chunk_size))
    events_name = f"events.{events_format}"

    files = {
        "products.csv": ManifestFile("products.csv", "products", "csv"),
        "customers.csv": ManifestFile("customers.csv", "customers", "csv"),
        "orders.csv": ManifestFile("orders.csv", "orders", "csv"),
        "order_lines.csv": ManifestFile("order_lines.csv", "order_lines", "csv"),
        "shopify_orders.csv": ManifestFile(
            "shopify_orders.csv", "orders", "shopify-orders", orders=0
        ),
        # Without events (--events-per-customer 0) there is no events file to import.
        **(
            {events_name: ManifestFile(events_name, "events", events_format)}
            if scale is not None
            else {}
        ),
        "reviews.csv": ManifestFile("reviews.csv", "reviews", "csv"),
        "tickets.csv": ManifestFile("tickets.csv", "tickets", "csv"),
    }
    headers = {
        "products.csv": IMPORTABLE["products"].column_names,
        "customers.csv": IMPORTABLE["customers"].column_names,
        "orders.csv": IMPORTABLE["orders"].column_names,
        "order_lines.csv": IMPORTABLE["order_lines"].column_names,
        "shopify_orders.csv": exports.SHOPIFY_ORDER_COLUMNS,
        "reviews.csv": IMPORTABLE["reviews"].column_names,
        "tickets.csv": IMPORTABLE["tickets"].column_names,
    }
    try:
        with ExitStack() as stack:
            handles: dict[str, IO[bytes]] = {}
            for name, header in headers.items():
                handles[name] = stack.enter_context(open(out / name, "wb"))
                handles[name].write(text.csv_header(header))
            event_sink = (
                _EventSink(out / events_name, events_format, stack) if scale is not None else None
            )

            def emit(name: str, columns: dict[str, pa.Array], extra: dirty.DirtyRows) -> None:
                lines = text.csv_lines(list(columns.values()))
                text.write_merged(handles[name], lines, extra.lines, extra.positions)
                entry = files[name]
                entry.rows += len(lines) + len(extra.lines)
                for kind, count in extra.counts.items():
                    entry.dirty_rows[kind] = entry.dirty_rows.get(kind, 0) + count

            product_columns = catalogue.columns()
            emit(
                "products.csv",
                product_columns,
                dirty.csv_dirty_rows(
                    _rng(seed, 2),
                    product_columns,
                    dirty.CsvTarget(
                        "products",
                        "product_id",
                        money="price",
                        fresh_ids=lambda k: text.prefixed_ids("P", 90_001 + np.arange(k)),
                    ),
                    dirty_rate,
                ),
            )

            n_chunks = math.ceil(customers / chunk_size)
            with console.progress("Writing the demo store", total=customers) as progress:
                for chunk in range(n_chunks):
                    first = chunk * chunk_size
                    size = min(chunk_size, customers - first)
                    _write_chunk(
                        seed=seed,
                        chunk=chunk,
                        first=first,
                        size=size,
                        capacity=capacity,
                        calendar=calendar,
                        acquisition_cdf=acquisition_cdf,
                        catalogue=catalogue,
                        campaigns=campaigns,
                        site=site,
                        migration_at=migration_at,
                        scale=scale,
                        dirty_rate=dirty_rate,
                        emit=emit,
                        event_sink=event_sink,
                        files=files,
                        events_name=events_name,
                    )
                    progress.advance(size)
    except BaseException:
        # A half-written store is worse than none: remove what this run wrote.
        for name in [*headers, events_name]:
            (out / name).unlink(missing_ok=True)
        raise

    manifest = DemoManifest(
        seed=seed,
        customers=customers,
        days=days,
        start=str(np.datetime64(calendar.start, "s").astype("datetime64[D]")),
        end_date=(end_date or DEFAULT_END_DATE).isoformat(),
        dirty_rate=dirty_rate,
        events_per_customer=events_per_customer,
        events_format=events_format,
        products=products,
        chunk_size=chunk_size,
        files=list(files.values()),
    )
    (out / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
    return manifest


class _EventSink:
    """Appends event blocks to a JSON Lines file or a Parquet file."""

    def __init__(self, path: Path, events_format: str, stack: ExitStack) -> None:
        self.format = events_format
        self._file: IO[bytes] | None = None
        self._parquet: pq.ParquetWriter | None = None
        if events_format == "jsonl":
            # Closed by the caller's ExitStack, with the other files.
            self._file = stack.enter_context(open(path, "wb"))  # noqa: SIM115
        else:
            self._parquet = pq.ParquetWriter(path, eventlines.PARQUET_SCHEMA, compression="zstd")
            stack.callback(self.close)

    def write(
        self, clean: eventlines.Rendered, broken: eventlines.Rendered, positions: np.ndarray
    ) -> int:
        """Write a block; the broken copies go before the clean rows at ``positions``."""
        if self._file is not None:
            lines = eventlines.json_lines(clean)
            text.write_merged(self._file, lines, eventlines.json_lines(broken), positions)
            return len(lines) + len(positions)
        assert self._parquet is not None
        table = pa.Table.from_batches([eventlines.parquet_batch(clean)])
        if len(positions):
            table = pa.concat_tables(
                [table, pa.Table.from_batches([eventlines.parquet_batch(broken)])]
            )
            order = dirty.merge_order(len(clean.message_id), positions)
            table = table.take(pa.array(order))
        self._parquet.write_table(table, row_group_size=max(table.num_rows, 1))
        return table.num_rows

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None


def _ip_addresses(rng: np.random.Generator, n: int) -> pa.Array:
    octets = rng.integers(1, 255, size=(4, n))
    octets[0] = np.where(np.isin(octets[0], (10, 127, 172, 192)), octets[0] + 1, octets[0])
    octets[0] = np.minimum(octets[0], 223)  # unicast
    parts = [text.integers(octets[i]) for i in range(4)]
    return text.concat(parts[0], ".", parts[1], ".", parts[2], ".", parts[3])


def _write_chunk(
    *,
    seed: int,
    chunk: int,
    first: int,
    size: int,
    capacity: int,
    calendar: StoreCalendar,
    acquisition_cdf: np.ndarray,
    catalogue: Catalogue,
    campaigns: Campaigns,
    site: eventlines.SiteFragments,
    migration_at: int,
    scale: float | None,
    dirty_rate: float,
    emit: Callable[[str, dict[str, pa.Array], dirty.DirtyRows], None],
    event_sink: _EventSink | None,
    files: dict[str, ManifestFile],
    events_name: str,
) -> None:
    """Generate and write one chunk of customers with everything that follows from them."""

    def rng(stream: int) -> np.random.Generator:
        return _rng(seed, 3, chunk, stream)

    people = generate_people(rng(_PEOPLE), calendar, acquisition_cdf, first, size)
    base = 1001 + chunk * capacity  # this chunk's order numbers: base .. base + capacity - 1
    orders = generate_orders(
        rng(_ORDERS), people, catalogue, calendar, migration_at, base, capacity
    )
    ids = orders.order_ids()
    bad = rng(_DIRTY)

    def from_top(prefix: str, top: int) -> Callable[[int], pa.Array]:
        # Keys of broken copies: counted down from the top of the chunk's range, which the
        # clean rows (counted up from the bottom) never reach.
        return lambda k: text.prefixed_ids(prefix, top - np.arange(k))

    cols = exports.customer_columns(people, orders)
    target = dirty.CsvTarget(
        "customers",
        "customer_id",
        date="created_at",
        email="email",
        fresh_ids=lambda k: customer_ids(_DIRTY_CUSTOMER_BASE + first + np.arange(k)),
    )
    emit("customers.csv", cols, dirty.csv_dirty_rows(bad, cols, target, dirty_rate))

    top = base + capacity - 1
    canonical = np.flatnonzero(~orders.legacy)
    cols = exports.order_columns(orders, people, ids, canonical)
    target = dirty.CsvTarget(
        "orders",
        "order_id",
        date="ordered_at",
        money="total",
        status="status",
        fresh_ids=from_top("SO", top),
    )
    emit("orders.csv", cols, dirty.csv_dirty_rows(bad, cols, target, dirty_rate))

    lines = np.flatnonzero(~orders.legacy[orders.line_order])
    cols = exports.order_line_columns(orders, catalogue, ids, lines)
    target = dirty.CsvTarget(
        "order_lines",
        "line_number",
        quantity="quantity",
        fresh_ids=lambda k: text.integers(901 + np.arange(k)),
    )
    emit("order_lines.csv", cols, dirty.csv_dirty_rows(bad, cols, target, dirty_rate))

    lines = np.flatnonzero(orders.legacy[orders.line_order])
    cols = exports.shopify_columns(orders, people, catalogue, ids, lines)
    target = dirty.CsvTarget(
        "shopify_orders",
        "Name",
        date="Created at",
        quantity="Lineitem quantity",
        fresh_ids=from_top("#", top),
        # A broken date makes an order of its own; a negative quantity is one more line item
        # of an existing order, after its last row.
        copy_rows={
            "unparseable_date": np.flatnonzero(orders.line_number[lines] == 1),
            "negative_quantity": np.flatnonzero(np.r_[orders.line_number[lines][1:] == 1, True]),
        },
        follow_source=("negative_quantity",),
        record_columns=tuple(
            c for c in exports.SHOPIFY_ORDER_COLUMNS if c not in exports.SHOPIFY_LINE_COLUMNS
        ),
    )
    extra = dirty.csv_dirty_rows(bad, cols, target, dirty_rate)
    emit("shopify_orders.csv", cols, extra)
    shopify = files["shopify_orders.csv"]
    broken_dates = extra.counts.get("unparseable_date", 0)  # each one an order of its own
    shopify.orders = (shopify.orders or 0) + int(orders.legacy.sum()) + broken_dates

    talk = rng(_FEEDBACK)
    number = 1 + chunk * capacity
    cols = feedback.review_columns(talk, orders, people, catalogue, calendar.end, number)
    target = dirty.CsvTarget(
        "reviews",
        "review_id",
        date="reviewed_at",
        rating="rating",
        fresh_ids=from_top("RV", number + capacity - 1),
    )
    emit("reviews.csv", cols, dirty.csv_dirty_rows(bad, cols, target, dirty_rate))
    cols = feedback.ticket_columns(talk, orders, people, ids, calendar.end, number)
    target = dirty.CsvTarget(
        "tickets",
        "ticket_id",
        date="created_at",
        contacts=("customer_id", "email"),
        fresh_ids=from_top("TK", number + capacity - 1),
    )
    emit("tickets.csv", cols, dirty.csv_dirty_rows(bad, cols, target, dirty_rate))

    if scale is None or event_sink is None:  # no events asked for
        return
    email = simulate_email(rng(_EMAIL), people, campaigns, orders.dropped_at, calendar.end)
    table, devices, _ = simulate_events(
        rng(_EVENTS), people, orders, catalogue, calendar, email, campaigns, scale
    )
    _write_events(
        seed,
        chunk,
        table,
        devices.count,
        people,
        orders,
        ids,
        site,
        dirty_rate,
        bad,
        event_sink,
        files[events_name],
    )


def _write_events(
    seed: int,
    chunk: int,
    table: EventTable,
    device_count: int,
    people: People,
    orders: Orders,
    ids: pa.Array,
    site: eventlines.SiteFragments,
    dirty_rate: float,
    bad: np.random.Generator,
    sink: _EventSink,
    entry: ManifestFile,
) -> None:
    id_stream = np.random.SeedSequence(seed, spawn_key=(3, chunk, _IDS))
    id_rng = np.random.default_rng(id_stream)
    fragments = eventlines.ChunkFragments(
        key=int(id_stream.generate_state(1, np.uint64)[0]),
        anonymous_id=text.uuids(id_rng, device_count),
        user_agent=text.lookup(USER_AGENTS, id_rng.integers(0, len(USER_AGENTS), device_count)),
        ip=_ip_addresses(id_rng, device_count),
        customer_id=people.customer_id,
        traits=eventlines.customer_traits(
            people.email, people.first_name, people.last_name, people.phone
        ),
        email=people.email,
        order_id=ids,
        order_properties=eventlines.order_properties(
            ids,
            orders.subtotal,
            orders.discount,
            orders.shipping,
            orders.tax,
            orders.total,
            text.lookup([c[0] for c in COUPONS], orders.coupon),
            orders.line_start,
            text.lookup(site.product_properties, orders.product),
            orders.quantity,
        ),
    )
    n = len(table)
    count = int(bad.binomial(n, dirty_rate)) if dirty_rate > 0 and n else 0
    positions = np.sort(bad.integers(0, n + 1, size=count))
    sources = bad.integers(0, max(n, 1), size=count)
    # Broken copies get message ids from a counter range clean rows never use.
    broken_counter = 1 << 40
    done = 0
    for start in range(0, max(n, 1), _EVENT_BLOCK):
        stop = min(start + _EVENT_BLOCK, n)
        last = stop >= n
        in_block = (positions >= start) & ((positions < stop) | last)
        clean = eventlines.render(table.take(slice(start, stop)), start, site, fragments)
        picked = sources[in_block]
        broken = eventlines.render(table.take(picked), broken_counter + done, site, fragments)
        broken, kinds = dirty.break_events(bad, broken)
        done += len(picked)
        entry.rows += sink.write(clean, broken, positions[in_block] - start)
        for kind, c in dirty.count_kinds(kinds, dirty.EVENT_KINDS).items():
            entry.dirty_rows[kind] = entry.dirty_rows.get(kind, 0) + c
