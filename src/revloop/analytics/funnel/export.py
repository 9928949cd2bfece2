"""Funnel results as files: one Parquet or CSV file per section, plus the whole as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from revloop.analytics.funnel.request import FunnelRequestError
from revloop.analytics.funnel.result import FunnelResult

FORMATS = ("parquet", "csv")


def export_result(result: FunnelResult, folder: Path, fmt: str = "parquet") -> list[Path]:
    """Write ``<section>.<fmt>`` for every section and ``report.json``; the paths written."""
    if fmt not in FORMATS:
        raise FunnelRequestError(f"export format {fmt!r}: use parquet or csv")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in result.tables().items():
        path = folder / f"{name}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)
        else:
            pacsv.write_csv(table, path)
        written.append(path)
    doc = folder / "report.json"
    doc.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    written.append(doc)
    return written
