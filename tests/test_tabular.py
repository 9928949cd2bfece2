"""CSV exports do not carry spreadsheet formulas from imported data."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from revloop.tabular import write_table_file

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "Acme",
           None, "a=b"]


def test_formula_cells_are_neutralised_and_raw_keeps_them(tmp_path: Path) -> None:
    table = pa.table({"name": HOSTILE, "amount": [-5.0] * len(HOSTILE)})
    write_table_file(table, tmp_path / "safe.csv")
    write_table_file(table, tmp_path / "raw.csv", raw=True)
    write_table_file(table, tmp_path / "t.parquet")
    with open(tmp_path / "safe.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == [
        "'=HYPERLINK(\"http://x\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tTab", "'\rCR", "Acme",
        "", "a=b"]
    assert {r["amount"] for r in rows} == {"-5"}  # numbers stay numbers
    with open(tmp_path / "raw.csv", newline="", encoding="utf-8") as fh:
        assert [r["name"] for r in csv.DictReader(fh)][:2] == HOSTILE[:2]
