"""Aggregated path files: ``path, conversions, nulls, value`` (CSV, TSV or Parquet).

The format of the peer packages (ChannelAttribution, marketing-attribution-models) and of web
analytics conversion-path exports: one row per distinct path, channels joined by a separator
(``>`` by default), how many journeys of that path converted and how many did not, and the
total value of its conversions. Column names are configurable; common aliases
(``total_conversions``, ``total_null``, ``total_conversion_value`` …) are recognised.

A touch may name the milestones it led to in brackets — ``paid_search>email[lead_creation]>
webinar[opportunity_creation]`` (several joined by ``+``) — so that W-shaped and custom weights
work on files too.

Malformed files stop with one line naming the file, the line, the column and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revloop.analytics.attribution.paths import Journeys
from revloop.errors import InputFileError
from revloop.tabular import write_table_file

ALIASES: dict[str, tuple[str, ...]] = {
    "path": ("path", "paths", "channel_path", "conversion_path", "journey"),
    "conversions": ("conversions", "total_conversions", "conversion", "conv",
                    "total_conversion"),
    "nulls": ("nulls", "total_null", "total_nulls", "null", "non_conversions"),
    "value": ("value", "total_conversion_value", "conversion_value", "revenue"),
}
_NUMBER = r"^\s*[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
_MARKED = re.compile(r"^(.*?)\[([^\[\]]*)\]$")


def _empty() -> pa.Scalar:
    # made on demand: any Python → Arrow conversion makes pyarrow import pandas (~40 MB, 0.3 s)
    # and the good path of a file never needs one
    return pa.scalar("", pa.string())


@dataclass(frozen=True)
class PathFileOptions:
    """How to read an aggregated path file."""

    sep: str = ">"
    path_col: str | None = None
    conversions_col: str | None = None
    nulls_col: str | None = None
    value_col: str | None = None
    delimiter: str | None = None  # CSV field delimiter; default ',' (tab for .tsv)


def _read_table(path: Path, delimiter: str | None) -> pa.Table:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputFileError(str(path), "no such file", code="file_not_found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pq.read_table(path)
        delim = delimiter or ("\t" if suffix in (".tsv", ".tab") else ",")
        # every column as text first: numbers are checked below with line numbers
        probe = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16),
                               parse_options=pacsv.ParseOptions(delimiter=delim))
        names = probe.schema.names
        probe.close()
        # path files are small (distinct paths): one thread reads them faster and leaner
        threads = path.stat().st_size > 64 * 2**20
        return pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(use_threads=threads),
            parse_options=pacsv.ParseOptions(delimiter=delim),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc).splitlines()[0]
        if "Empty CSV file" in msg:
            raise InputFileError(str(path), "the file is empty", code="empty_file") from None
        raise InputFileError(str(path), f"cannot be read as a paths file: {msg}",
                             code="unreadable") from None


def _column(table: pa.Table, path: Path, role: str, given: str | None,
            required: bool) -> str | None:
    names = table.column_names
    if given is not None:
        if given not in names:
            raise InputFileError(
                str(path), f"no column {given!r} for {role} (columns: {', '.join(names)})",
                code="missing_column")
        return given
    lower = {n.lower().strip(): n for n in names}
    for alias in ALIASES[role]:
        if alias in lower:
            return str(lower[alias])
    if required:
        raise InputFileError(
            str(path), f"no {role} column: expected one of {', '.join(ALIASES[role])} "
            f"(columns: {', '.join(names)}); name it with --{role}-col", code="missing_column")
    return None


_NUMPY_TYPES = {pa.int8(): np.int8, pa.int16(): np.int16, pa.int32(): np.int32,
                pa.int64(): np.int64, pa.uint32(): np.uint32, pa.float64(): np.float64}


def _np(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(values, valid) of a primitive Arrow array, read from its buffers.

    ``Array.to_numpy`` makes pyarrow import pandas (0.3 s, ~40 MB) even for a plain int32
    array; a path file needs neither, so the good path reads buffers directly.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n, off = len(arr), arr.offset
    validity, data = arr.buffers()[0], arr.buffers()[1]
    if pa.types.is_boolean(arr.type):
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        values: np.ndarray[Any, Any] = bits[off:off + n].astype(np.bool_)
    else:
        values = np.frombuffer(data, dtype=_NUMPY_TYPES[arr.type])[off:off + n]
    if validity is None or arr.null_count == 0:
        return values, np.ones(n, dtype=np.bool_)
    valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return values, valid[off:off + n].astype(np.bool_)


def _contains(strings: pa.Array, *needles: str) -> bool:
    """Some string holds one of ``needles`` (searched in the data buffer, no per-row work)."""
    data = strings.buffers()[2]
    if data is None:
        return False
    raw = memoryview(data).tobytes()
    return any(n.encode() in raw for n in needles)


def _where(parquet: bool, row: int) -> str:
    """Human position of a 0-based data row: CSV line (header = line 1) or Parquet row."""
    return f"row {row + 1}" if parquet else f"line {row + 2}"


def _numbers(table: pa.Table, col: str, path: Path, parquet: bool,
             empty_is_zero: bool) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    arr = table.column(col).combine_chunks()
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) \
            or pa.types.is_decimal(arr.type):
        raw, valid = _np(pc.cast(arr, pa.float64()))
        vals = np.where(valid, raw, np.nan)
        filled = np.where(np.isnan(vals), 0.0 if empty_is_zero else np.nan, vals)
        bad = np.flatnonzero(~(filled >= 0))
        if len(bad):
            i = int(bad[0])
            raise InputFileError(
                str(path), f"{_where(parquet, i)}, column {col!r}: expected a non-negative "
                f"number, got {arr[i].as_py()!r}", code="bad_number")
        return filled.astype(np.float64)
    text = pc.cast(arr, pa.string())
    # fast path: every field a plain number (pyarrow's parser); anything else is re-checked
    # below to name the first bad line
    try:
        values, valid = _np(pc.cast(text, pa.float64()))
        if bool((valid & np.isfinite(values) & (values >= 0)).all()):
            return np.array(values, dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # explicit scalars: a bare Python str makes pyarrow import pandas
    text = pc.fill_null(text, _empty())
    stripped = pc.utf8_trim_whitespace(text)
    empty = pc.equal(stripped, _empty()).to_numpy(zero_copy_only=False)
    ok = pc.match_substring_regex(text, _NUMBER).to_numpy(zero_copy_only=False)
    valid = ok | (empty & empty_is_zero)
    if not valid.all():
        i = int(np.flatnonzero(~valid)[0])
        got = text[i].as_py()
        what = "an empty field" if got.strip() == "" else repr(got)
        raise InputFileError(
            str(path), f"{_where(parquet, i)}, column {col!r}: expected a non-negative number, "
            f"got {what}", code="bad_number")
    vals = pc.cast(pc.if_else(pc.equal(stripped, _empty()), pa.scalar("0"), stripped),
                   pa.float64())
    out: np.ndarray[tuple[int], np.dtype[np.float64]] = np.asarray(
        vals.to_numpy(zero_copy_only=False), dtype=np.float64)
    return out


def read_path_file(file: str | Path,
                   options: PathFileOptions | None = None) -> tuple[Journeys, list[str]]:
    """The journeys of an aggregated path file, and notes on how it was read."""
    opts = options or PathFileOptions()
    path = Path(file)
    if not opts.sep:
        raise InputFileError(str(path), "the path separator must not be empty", code="bad_sep")
    table = _read_table(path, opts.delimiter)
    parquet = path.suffix.lower() in (".parquet", ".pq")
    notes: list[str] = []
    path_col = _column(table, path, "path", opts.path_col, True)
    conv_col = _column(table, path, "conversions", opts.conversions_col, True)
    null_col = _column(table, path, "nulls", opts.nulls_col, False)
    value_col = _column(table, path, "value", opts.value_col, False)
    assert path_col is not None and conv_col is not None
    if table.num_rows == 0:
        raise InputFileError(str(path), "the file has a header but no rows", code="empty_file")
    n = table.num_rows
    conversions = _numbers(table, conv_col, path, parquet, empty_is_zero=False)
    if null_col is None:
        nulls = np.zeros(n)
        notes.append("no nulls column: every journey in the file converted, so Markov removal "
                     "effects only see conversions")
    else:
        nulls = _numbers(table, null_col, path, parquet, empty_is_zero=True)
    if value_col is None:
        value = np.zeros(n)
        notes.append("no value column: value credits are 0")
    else:
        value = _numbers(table, value_col, path, parquet, empty_is_zero=True)
    orphan_value = np.flatnonzero((value > 0) & (conversions == 0))
    if len(orphan_value):
        i = int(orphan_value[0])
        raise InputFileError(
            str(path), f"{_where(parquet, i)}: value {value[i]:g} on a path with 0 conversions "
            "(value is the total value of the path's conversions)", code="value_without_conversion")
    tokens, offsets = _split_paths(table.column(path_col), path, parquet, opts.sep)
    channels, codes, flags, milestones = _encode(tokens, offsets, path, parquet)
    if milestones:
        notes.append("milestone marks found: " + ", ".join(milestones))
    journeys = Journeys(
        channels=channels, offsets=offsets, touches=codes, conversions=conversions, nulls=nulls,
        value=value, flags=flags, milestones=milestones,
    )
    return journeys, notes


def _split_paths(column: pa.ChunkedArray, path: Path, parquet: bool,
                 sep: str) -> tuple[pa.Array, np.ndarray[tuple[int], np.dtype[np.int64]]]:
    arr = column.combine_chunks()
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        lists = arr
    else:
        text = pc.cast(arr, pa.string())
        if text.null_count:
            text = pc.fill_null(text, _empty())
        lists = pc.split_pattern(text, sep)
    offsets = _np(lists.offsets)[0].astype(np.int64)
    offsets = offsets - offsets[0]
    tokens = pc.cast(lists.flatten(), pa.string())
    if _contains(tokens, " ", "\t"):  # "a > b" exports: trim only when there is something to
        tokens = pc.utf8_trim_whitespace(tokens)
    size, valid = _np(pc.utf8_length(tokens))
    empty = (size == 0) | ~valid
    lengths = np.diff(offsets)
    if (lengths == 0).any():
        i = int(np.flatnonzero(lengths == 0)[0])
        raise InputFileError(str(path), f"{_where(parquet, i)}: the path is empty",
                             code="empty_path")
    if empty.any():
        t = int(np.flatnonzero(empty)[0])
        row = int(np.searchsorted(offsets, t, side="right") - 1)
        if lengths[row] == 1:
            raise InputFileError(str(path), f"{_where(parquet, row)}: the path is empty",
                                 code="empty_path")
        raw = arr[row].as_py()
        raise InputFileError(
            str(path), f"{_where(parquet, row)}: empty channel name at position "
            f"{t - offsets[row] + 1} of path {raw!r} (separator {sep!r})", code="empty_channel")
    return tokens, offsets


def _encode(tokens: pa.Array, offsets: np.ndarray[tuple[int], np.dtype[np.int64]], path: Path,
            parquet: bool) -> tuple[tuple[str, ...], np.ndarray[tuple[int], np.dtype[np.int32]],
                                    np.ndarray[tuple[int], np.dtype[np.uint32]] | None,
                                    tuple[str, ...]]:
    flags = None
    milestones: tuple[str, ...] = ()
    if _contains(tokens, "[", "]"):
        marked = _np(pc.or_(pc.match_substring(tokens, "["), pc.match_substring(tokens, "]")))[0]
        names = tokens.to_pylist()
        per_touch: list[Sequence[str]] = [()] * len(names)
        for t in np.flatnonzero(marked):
            m = _MARKED.match(names[t])
            row = int(np.searchsorted(offsets, t, side="right") - 1)
            if not m or not m.group(1).strip():
                raise InputFileError(
                    str(path), f"{_where(parquet, row)}: cannot read touch {names[t]!r}; mark "
                    "milestones as channel[milestone+milestone]", code="bad_marker")
            names[t] = m.group(1).strip()
            per_touch[t] = [x.strip() for x in re.split(r"[+,]", m.group(2)) if x.strip()]
        milestones = tuple(sorted({x for per in per_touch for x in per}))
        if len(milestones) > 32:
            raise InputFileError(str(path), "more than 32 distinct milestone marks",
                                 code="bad_marker")
        bit = {x: np.uint32(1 << i) for i, x in enumerate(milestones)}
        flags = np.zeros(len(names), dtype=np.uint32)
        for t in np.flatnonzero(marked):
            for x in per_touch[t]:
                flags[t] |= bit[x]
        tokens = pa.array(names, pa.string())
    encoded = pc.dictionary_encode(tokens)
    dictionary = encoded.dictionary.to_pylist()
    order = np.argsort(np.asarray(dictionary, dtype=object), kind="stable")
    remap = np.empty(len(order), dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    codes = remap[_np(encoded.indices)[0]]
    channels = tuple(dictionary[i] for i in order)
    return channels, codes.astype(np.int32), flags, milestones


def write_path_file(journeys: Journeys, file: str | Path, sep: str = ">") -> int:
    """Write journeys as an aggregated path file (CSV or Parquet by suffix); rows written.

    Identical paths are merged (their outcomes summed); touch ages and flags are not written.
    """

    from revloop.analytics.attribution.paths import distinct_paths, path_strings

    distinct, _ = distinct_paths(journeys)
    keep = distinct.has_touches & ((distinct.conversions > 0) | (distinct.nulls > 0))
    distinct = distinct.select(keep)
    table = pa.table({
        "path": path_strings(distinct, sep),
        "conversions": distinct.conversions,
        "nulls": distinct.nulls,
        "value": distinct.value,
    })
    return write_table_file(table, file)
