"""Funnel results as files: one Parquet or CSV file per section, plus the whole as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from revloop.analytics.funnel.request import FunnelRequestError
from revloop.analytics.funnel.result import FunnelResult
from revloop.tabular import write_table_file

FORMATS = ("parquet", "csv")


def export_result(result: FunnelResult, folder: Path, fmt: str = "parquet",
                  raw: bool = False) -> list[Path]:
    """Write ``<section>.<fmt>`` for every section and ``report.json``; the paths written.
    CSV text that a spreadsheet would run as a formula is neutralised unless ``raw``."""
    if fmt not in FORMATS:
        raise FunnelRequestError(f"export format {fmt!r}: use parquet or csv")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in result.tables().items():
        path = folder / f"{name}.{fmt}"
        write_table_file(table, path, raw=raw)
        written.append(path)
    doc = folder / "report.json"
    doc.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    written.append(doc)
    return written
