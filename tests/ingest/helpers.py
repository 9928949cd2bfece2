"""Helpers for import tests: snapshots of everything a store holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import ImportOptions, ImportResult, run_import
from revloop.ingest.readers import ReadOptions
from revloop.schema import ENTITIES
from revloop.store import Store


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every raw table and the quarantine, as sorted row tuples (the import log excluded)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name in [e.raw_table for e in ENTITIES] + ["quarantine"]:
        rows = store.table(name).to_pyarrow().to_pylist()
        out[name] = sorted((tuple(r.values()) for r in rows), key=repr)
    return out


def write(path: Path, text: str | bytes) -> Path:
    """Write a file (text as UTF-8) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def canonical(store: Store, *paths: Path, **read: Any) -> ImportResult:
    """Import canonical files."""
    return run_import(store, get_adapter("canonical"), list(paths),
                      ImportOptions(read=ReadOptions(**read)))


def quarantined(store: Store) -> list[dict[str, Any]]:
    """The quarantine, ordered by line."""
    rows = store.table("quarantine").to_pyarrow().to_pylist()
    return sorted(rows, key=lambda r: (r["source_file"], r["line"]))


def table_rows(store: Store, table: str) -> list[dict[str, Any]]:
    """Every row of ``table`` as a dict, missing values as None."""
    frame = store.table(table).to_pandas()
    return [{k: (None if _missing(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def _missing(value: object) -> bool:
    return not isinstance(value, list | dict) and bool(pd.isna(value))


def by_key(store: Store, table: str, key: str) -> dict[str, dict[str, Any]]:
    """The rows of ``table`` by their ``key`` column."""
    return {r[key]: r for r in table_rows(store, table)}
