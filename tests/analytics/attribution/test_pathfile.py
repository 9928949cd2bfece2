"""Aggregated path files: formats, aliases, milestone marks and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revloop.analytics.attribution.heuristics import WShaped
from revloop.analytics.attribution.pathfile import (
    PathFileOptions,
    read_path_file,
    write_path_file,
)
from revloop.analytics.attribution.paths import to_sequences
from revloop.errors import InputFileError
from tests.analytics.attribution.golden import golden_journeys


def write(tmp_path: Path, text: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_separator_columns_and_whitespace(tmp_path: Path) -> None:
    f = write(tmp_path, "Journey\tConv\tNo\tRev\n a ; b \t2\t3\t20\nb\t0\t1\t\n", "p.tsv")
    j, notes = read_path_file(f, PathFileOptions(sep=";", path_col="Journey",
                                                 conversions_col="Conv", nulls_col="No",
                                                 value_col="Rev"))
    assert to_sequences(j) == [["a", "b"], ["b"]]
    assert list(j.conversions) == [2, 0] and list(j.nulls) == [3, 1] and list(j.value) == [20, 0]
    assert notes == []


def test_aliases_and_optional_columns(tmp_path: Path) -> None:
    f = write(tmp_path, "path,total_conversions,total_conversion_value\na>b,1,5\n")
    j, notes = read_path_file(f)
    assert list(j.value) == [5] and list(j.nulls) == [0]
    assert any("no nulls column" in n for n in notes)


def test_parquet_with_list_paths(tmp_path: Path) -> None:
    f = tmp_path / "p.parquet"
    pq.write_table(pa.table({"path": [["a", "b"], ["c"]], "conversions": [1, 0],
                             "nulls": [0, 2], "value": [3.5, None]}), f)
    j, _ = read_path_file(f)
    assert to_sequences(j) == [["a", "b"], ["c"]]
    assert list(j.value) == [3.5, 0]


def test_milestone_marks(tmp_path: Path) -> None:
    f = write(tmp_path, "path,conversions,nulls,value\n"
              "a>b[lead_creation]>c>d[opportunity_creation]>e,1,0,100\n")
    j, notes = read_path_file(f)
    assert to_sequences(j) == [["a", "b", "c", "d", "e"]]
    assert j.milestones == ("lead_creation", "opportunity_creation")
    assert "milestone marks found" in notes[0]
    w = WShaped().touch_weights(j)
    assert list(w.round(6)) == [0.3, 0.3, 0.05, 0.3, 0.05]


@pytest.mark.parametrize(("text", "message"), [
    ("route,conversions\na,1\n", "no path column: expected one of path"),
    ("path,conv\na,x\n", "line 2, column 'conv': expected a non-negative number, got 'x'"),
    ("path,conversions\na,1\nb,\n", "line 3, column 'conversions': expected a non-negative "
     "number, got an empty field"),
    ("path,conversions,nulls\na,1,-2\n", "line 2, column 'nulls': expected a non-negative"),
    ("path,conversions\na,1\n,2\n", "line 3: the path is empty"),
    ("path,conversions\na>>b,1\n", "line 2: empty channel name at position 2 of path 'a>>b'"),
    ("path,conversions,value\na,0,10\n", "line 2: value 10 on a path with 0 conversions"),
    ("path,conversions\n", "the file has a header but no rows"),
    ("", "the file is empty"),
    ("path,conversions\na[x,1\n", "line 2: cannot read touch"),
    ("path,conversions\n[lc],1\n", "line 2: cannot read touch '[lc]'"),
])
def test_errors_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    f = write(tmp_path, text)
    with pytest.raises(InputFileError) as info:
        read_path_file(f)
    assert str(f) in info.value.message
    assert message in info.value.message


def test_missing_file_and_named_column(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_path_file(tmp_path / "nope.csv")
    f = write(tmp_path, "path,conversions\na,1\n")
    with pytest.raises(InputFileError, match=r"no column 'value' for value \(columns: path, "):
        read_path_file(f, PathFileOptions(value_col="value"))


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    j = golden_journeys()
    for name in ("out.csv", "out.parquet"):
        n = write_path_file(j, tmp_path / name)
        assert n == 10
        back, _ = read_path_file(tmp_path / name)
        assert sorted(map(tuple, to_sequences(back))) == sorted(map(tuple, to_sequences(j)))
        assert back.conversions.sum() == 13 and back.value.sum() == 1415
