"""Storing an Arrow table (results, truth tables) on every engine, replaced atomically."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from revloop.store import Store


def test_write_arrow_round_trips_every_type_and_replaces(backend: Store) -> None:
    table = pa.table({
        "name": ["a", "", None],
        "n": pa.array([1, 2, None], pa.int32()),
        "x": [0.5, None, -1.25],
        "flag": [True, False, None],
        "day": [dt.date(2024, 1, 2), None, dt.date(2025, 12, 31)],
        "at": [dt.datetime(2024, 1, 2, 3, 4, 5, 6), None, dt.datetime(2025, 1, 1)],
    })
    backend.write_arrow("truth_example", table)
    got = backend.table("truth_example").order_by("x").to_pyarrow().to_pylist()
    assert sorted(got, key=lambda r: (r["x"] is None, r["x"] or 0)) == [
        {"name": None, "n": None, "x": -1.25, "flag": None, "day": dt.date(2025, 12, 31),
         "at": dt.datetime(2025, 1, 1)},
        {"name": "a", "n": 1, "x": 0.5, "flag": True, "day": dt.date(2024, 1, 2),
         "at": dt.datetime(2024, 1, 2, 3, 4, 5, 6)},
        {"name": "", "n": 2, "x": None, "flag": False, "day": None, "at": None},
    ]
    backend.write_arrow("truth_example", pa.table({"only": [7]}))
    assert backend.table("truth_example").to_pyarrow().to_pylist() == [{"only": 7}]
    assert "truth_example" in backend.list_tables()
