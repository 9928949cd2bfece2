"""Writing an Arrow table to the file a user named: Parquet or CSV by its suffix.

CSV files are opened in spreadsheets, which run a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula: imported text (a lead's name, a campaign
title) could then run in the reader's spreadsheet. Text cells that start so are written with
a leading apostrophe (the OWASP rule for CSV injection) unless ``raw`` is asked for. Numbers
are written as numbers.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

PARQUET_SUFFIXES = (".parquet", ".pq")
_FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """``table`` with every text cell a spreadsheet would run as a formula prefixed by ``'``."""
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        col = table.column(i)
        risky = pc.fill_null(pc.match_substring_regex(col, _FORMULA_START), False)
        if pc.any(risky).as_py():
            safe = pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)
            table = table.set_column(i, field, safe)
    return table


def write_table_file(table: pa.Table, path: str | Path, *, raw: bool = False) -> int:
    """Write ``table`` as Parquet (``.parquet``/``.pq``) or else CSV, creating the folder;
    the number of rows written. CSV text that would run as a formula is neutralised unless
    ``raw``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in PARQUET_SUFFIXES:
        pq.write_table(table, out)
    else:
        pacsv.write_csv(table if raw else neutralise_formulas(table), out)
    return int(table.num_rows)
