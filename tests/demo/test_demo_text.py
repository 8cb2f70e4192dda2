"""The vectorised text helpers the demo writers are built from."""

from __future__ import annotations

import io
import re

import numpy as np
import pyarrow as pa

from segmint.demo import text


def test_money_has_two_decimals_and_a_sign() -> None:
    cents = np.array([0, 5, 99, 100, 123456, -250])
    assert text.money(cents).to_pylist() == ["0.00", "0.05", "0.99", "1.00", "1234.56", "-2.50"]


def test_timestamps_and_dates() -> None:
    seconds = np.array([0, 1_700_000_000])
    assert text.timestamps(seconds).to_pylist() == ["1970-01-01 00:00:00", "2023-11-14 22:13:20"]
    assert text.dates(seconds).to_pylist() == ["1970-01-01", "2023-11-14"]
    assert text.iso_millis(np.array([1_700_000_000_123])).to_pylist() == [
        "2023-11-14T22:13:20.123Z"
    ]


def test_csv_fields_are_quoted_only_when_needed() -> None:
    values = pa.array(["plain", "a,b", 'say "hi"', None, " padded", "x\ny"])
    assert text.csv_field(values).to_pylist() == [
        "plain", '"a,b"', '"say ""hi"""', "", '" padded"', '"x\ny"',
    ]  # fmt: skip
    lines = text.csv_lines([pa.array(["1", "2"]), pa.array(["a,b", None])])
    assert lines.to_pylist() == ['1,"a,b"\n', "2,\n"]


def test_concat_lookup_and_json_strings() -> None:
    assert text.concat("<", pa.array(["a", None]), ">").to_pylist() == ["<a>", None]
    assert text.concat("<", pa.array(["a", None]), ">", skip_nulls=True).to_pylist() == [
        "<a>", "<>",
    ]  # fmt: skip
    assert text.lookup(["x", "y"], np.array([1, -1, 0])).to_pylist() == ["y", None, "x"]
    assert text.json_string(pa.array(['a"b\\c'])).to_pylist() == ['"a\\"b\\\\c"']
    assert text.prefixed_ids("C", np.array([7, 12345]), width=4).to_pylist() == ["C0007", "C12345"]


def test_uuids_are_version_4_and_stable_per_row() -> None:
    pattern = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    ids = text.hashed_uuids(42, np.arange(1000)).to_pylist()
    assert len(set(ids)) == 1000 and all(pattern.match(i) for i in ids)
    assert text.hashed_uuids(42, np.arange(500, 502)).to_pylist() == ids[500:502]
    assert text.hashed_uuids(43, np.arange(2)).to_pylist() != ids[:2]
    random_ids = text.uuids(np.random.default_rng(0), 100).to_pylist()
    assert len(set(random_ids)) == 100 and all(pattern.match(i) for i in random_ids)


def test_write_merged_inserts_extra_lines_before_positions() -> None:
    clean = pa.array(["a\n", "b\n", "c\n"])
    extra = pa.array(["X\n", "Y\n", "Z\n"])
    out = io.BytesIO()
    written = text.write_merged(out, clean, extra, np.array([0, 2, 3]))
    assert out.getvalue() == b"X\na\nb\nY\nc\nZ\n" and written == 12
    out = io.BytesIO()
    text.write_lines(out, clean.slice(1))
    assert out.getvalue() == b"b\nc\n"
