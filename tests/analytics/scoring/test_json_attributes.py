"""Profiles of custom attributes (values are read by store.queries.json_text, tested in
tests/store/test_queries.py)."""

from __future__ import annotations

import json

from revloop.analytics.scoring.json_attributes import (
    profile_attributes,
)

ROWS = [
    {"Lead Origin": "API", "n": "5", "x": 3.5, "b": True, "Total (s)": "12"},
    {"Lead Origin": 'Form "x" \\ ok', "n": "abc", "café": "é"},
    None,
    {"a": '"Lead Origin":"bad"', "n": " 7e1 "},
]


def test_profiles_decide_numeric_and_text() -> None:
    texts = [json.dumps({"n": str(i), "kind": "ab"[i % 2], "id": f"x{i}"}) for i in range(300)]
    prof = profile_attributes([*texts, None, "not json", "[1]"])
    assert prof["n"].is_numeric and prof["n"].distinct == 300
    assert not prof["kind"].is_numeric and prof["kind"].top_values == ("a", "b")
    assert prof["id"].present == 300
