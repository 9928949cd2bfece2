"""Writing an Arrow table to the file a user named: Parquet or CSV by its suffix."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

PARQUET_SUFFIXES = (".parquet", ".pq")


def write_table_file(table: pa.Table, path: str | Path) -> int:
    """Write ``table`` as Parquet (``.parquet``/``.pq``) or else CSV, creating the folder;
    the number of rows written."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in PARQUET_SUFFIXES:
        pq.write_table(table, out)
    else:
        pacsv.write_csv(table, out)
    return int(table.num_rows)
