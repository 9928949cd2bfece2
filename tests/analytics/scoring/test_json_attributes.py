"""Custom attributes read from JSON text the same way on every engine."""

from __future__ import annotations

import json

import pyarrow as pa

from revloop.analytics.scoring.json_attributes import (
    json_text_value,
    profile_attributes,
    safe_float,
)
from revloop.store import Store

ROWS = [
    {"Lead Origin": "API", "n": "5", "x": 3.5, "b": True, "Total (s)": "12"},
    {"Lead Origin": 'Form "x" \\ ok', "n": "abc", "café": "é"},
    None,
    {"a": '"Lead Origin":"bad"', "n": " 7e1 "},
]


def test_values_numbers_escapes_and_missing_keys(backend: Store) -> None:
    texts = [json.dumps(r, ensure_ascii=False) if r else None for r in ROWS]
    backend.write_arrow("jt", pa.table({"id": ["a", "b", "c", "d"], "custom": texts}))
    t = backend.table("jt")

    def column(key: str, numeric: bool = False) -> list[object]:
        value = json_text_value(t.custom, key)
        expr = safe_float(value) if numeric else value
        rows = t.select(t.id, v=expr).order_by("id").to_pyarrow()
        return rows.column("v").to_pylist()

    assert column("Lead Origin") == ["API", 'Form "x" \\ ok', None, None]
    assert column("x") == ["3.5", None, None, None]
    assert column("b") == ["true", None, None, None]
    assert column("Total (s)") == ["12", None, None, None]
    assert column("café") == [None, "é", None, None]
    assert column("missing") == [None, None, None, None]
    assert column("n", numeric=True) == [5.0, None, None, 70.0]


def test_profiles_decide_numeric_and_text() -> None:
    texts = [json.dumps({"n": str(i), "kind": "ab"[i % 2], "id": f"x{i}"}) for i in range(300)]
    prof = profile_attributes([*texts, None, "not json", "[1]"])
    assert prof["n"].is_numeric and prof["n"].distinct == 300
    assert not prof["kind"].is_numeric and prof["kind"].top_values == ("a", "b")
    assert prof["id"].present == 300
