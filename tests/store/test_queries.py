"""The engine-neutral query helpers give the same answer on every engine."""

from __future__ import annotations

import datetime as dt
import json

import ibis
import pyarrow as pa
import pytest

from revloop.store import Store
from revloop.store.queries import (
    QueryError,
    as_float,
    collect_sorted,
    epoch_seconds,
    epoch_seconds_of,
    float_literal,
    json_text,
    safe_float,
    trim,
)

ROWS = [
    {"Lead Origin": "API", "n": "5", "x": 3.5, "b": True, "Total (s)": "12", "e": "",
     "z": None, "k/slash": "s", "t~": "tilde"},
    {"Lead Origin": 'Form "x" \\ ok', "n": "abc", "café": "é", "nl": "a\nb"},
    None,
    {"a": '"Lead Origin":"bad"', "n": " 7e1 "},
]


def test_json_values_numbers_escapes_and_missing_keys(backend: Store) -> None:
    texts = [json.dumps(r, ensure_ascii=False) if r else None for r in ROWS]
    backend.write_arrow("jt", pa.table({"id": ["a", "b", "c", "d"], "custom": texts}))
    t = backend.table("jt")

    def column(key: str, numeric: bool = False) -> list[object]:
        value = json_text(backend, t.custom, key)
        expr = safe_float(value) if numeric else value
        rows = t.select(t.id, v=expr).order_by("id").to_pyarrow()
        return rows.column("v").to_pylist()

    assert column("Lead Origin") == ["API", 'Form "x" \\ ok', None, None]
    assert column("x") == ["3.5", None, None, None]
    assert column("b") == ["true", None, None, None]
    assert column("Total (s)") == ["12", None, None, None]
    assert column("café") == [None, "é", None, None]
    assert column("missing") == [None, None, None, None]
    assert column("e") == [None, None, None, None]  # empty string reads as NULL
    assert column("z") == [None, None, None, None]  # JSON null too
    assert column("k/slash") == ["s", None, None, None]
    assert column("t~") == ["tilde", None, None, None]
    assert column("nl") == [None, "a\nb", None, None]
    assert column("n", numeric=True) == [5.0, None, None, 70.0]


@pytest.mark.parametrize("key", ["", "it's", "a[0]", 'q"', "back\\slash", "tab\there"])
def test_json_keys_no_engine_can_address_are_refused(duck: Store, key: str) -> None:
    duck.write_arrow("jt", pa.table({"custom": ['{"a": "b"}']}))
    with pytest.raises(QueryError, match="attribute name"):
        json_text(duck, duck.table("jt").custom, key)


def test_floats_and_epochs(backend: Store) -> None:
    # (instants before 1970: test_epoch_floors_before_1970)
    stamps = [dt.datetime(2024, 3, 1, 12, 0, 0, 750_000), dt.datetime(1970, 1, 1, 0, 0, 1,
                                                                        999_999)]
    backend.write_arrow("ft", pa.table({"id": [1, 2], "ts": pa.array(stamps, pa.timestamp("us")),
                                        "n": [2, 3]}))
    t = backend.table("ft")
    out = t.select(
        t.id, e=epoch_seconds(t.ts), f=float_literal(0.1) + as_float(t.n), half=as_float(0.5),
        none=float_literal(None),
    ).order_by("id").to_pyarrow().to_pylist()
    assert [r["e"] for r in out] == [epoch_seconds_of(s) for s in stamps]
    assert [r["e"] for r in out] == [1709294400.0, 1.0]
    assert [r["f"] for r in out] == [pytest.approx(2.1), pytest.approx(3.1)]
    assert all(isinstance(r["f"], float) and r["half"] == 0.5 and r["none"] is None for r in out)


def test_collect_sorted(backend: Store) -> None:
    backend.write_arrow("ct", pa.table({
        "g": [1, 1, 1, 2], "ts": [3.0, 1.0, 2.0, 5.0], "v": ["c", "a", "b", "d"]}))
    t = backend.table("ct")
    got = collect_sorted(backend, t, "g", ["ts", "v"]).order_by("g").to_pyarrow()
    if "s" in got.column_names:
        values = [[x["v"] for x in row] for row in got.column("s").to_pylist()]
    else:
        values = got.column("v").to_pylist()
    assert values == [["a", "b", "c"], ["d"]]
    assert ibis  # the helpers return Ibis expressions


@pytest.mark.notimpl(["spark"], reason="Spark's epoch truncates instants before 1970 "
                     "towards zero instead of flooring")
def test_epoch_floors_before_1970(backend: Store) -> None:
    stamp = dt.datetime(1969, 12, 31, 23, 59, 59, 500_000)
    backend.write_arrow("old", pa.table({"ts": pa.array([stamp], pa.timestamp("us"))}))
    t = backend.table("old")
    value = t.select(e=epoch_seconds(t.ts)).to_pyarrow().column("e").to_pylist()[0]
    assert value == epoch_seconds_of(stamp) == -1.0


def test_trim_keeps_letters_spark_would_cut(backend: Store) -> None:
    texts = [" fatima.muller@x.tv\t", "f", "\n vivid fluff \r", "", None]
    backend.write_arrow("tt", pa.table({"id": [1, 2, 3, 4, 5], "t": texts}))
    t = backend.table("tt")
    got = t.select(t.id, v=trim(t.t)).order_by("id").to_pyarrow().column("v").to_pylist()
    assert got == ["fatima.muller@x.tv", "f", "vivid fluff", "", None]
