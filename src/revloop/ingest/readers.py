"""Streaming readers for CSV, Parquet and JSON-lines files.

Every reader yields Arrow record batches with the file's own columns plus ``_line`` (the line
of the record; the CSV header is line 1, and a quoted value spanning lines counts as one), and
collects rows it could not read at all (wrong number of fields, bad JSON) as :class:`BadRow`
records for the quarantine. Whole-file problems raise :class:`InputFileError`.

Files are opened through :mod:`revloop.ingest.rawfile`: compressed files are decompressed and
UTF-16/UTF-32 files transcoded on the fly, so the readers only ever see ASCII-compatible bytes.
Values are decoded by :mod:`revloop.ingest.textdecode`: a byte the file's encoding does not
define never costs the row; it is replaced and the row flagged (:attr:`SourceFile.repairs`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from revloop.errors import InputFileError
from revloop.ingest.csv_header import read_header
from revloop.ingest.jsonlines import JsonRows, distinct_keys, json_text, jsonl_columns
from revloop.ingest.rawfile import LINE_BREAK, READ_ERRORS, RawFile, base_name, check_path, sniff
from revloop.ingest.textdecode import Repairs, ValueDecoder

_TRUNCATED_QUOTE = ("the last line ends inside a quoted value and the file has no final line "
                    "break: the file looks truncated")
_TRUNCATED_HINT = " — the file does not end with a line break: it looks truncated"
_TAIL_BYTES = 1 << 20


@dataclass
class BadRow:
    """A record that could not be read or converted."""

    line: int
    column: str | None
    value: str | None
    code: str
    reason: str
    record: dict[str, object] | None = None

    def __post_init__(self) -> None:
        # No store keeps a NUL byte in text (PostgreSQL refuses it): show it escaped.
        if self.value is not None and "\x00" in self.value:
            self.value = self.value.replace("\x00", "\\x00")


@dataclass
class ReadOptions:
    """How to read a file."""

    delimiter: str | None = None  # None: comma for .csv, tab for .tsv
    encoding: str | None = None  # None: detected per file
    batch_rows: int = 250_000
    max_field_bytes: int = 1 << 20
    block_bytes: int = 16 << 20  # also the longest single value a CSV reader accepts

    @property
    def delimiter_given(self) -> bool:
        return self.delimiter is not None


@dataclass
class SourceFile:
    """An opened input file: its header and a stream of batches."""

    path: Path
    columns: list[str]
    format: str
    options: ReadOptions
    bad_rows: list[BadRow] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    rows_read: int = 0
    trailing_empty: int = 0
    ends_with_newline: bool = True
    truncated_last_line: bool = False
    raw: RawFile | None = None  # how the bytes are unpacked (None: a plain file)
    header_line: int = 1  # 2 after an Excel "sep=;" line
    sep_line: str | None = None  # the delimiter an Excel "sep=" line names
    empty: bool = False  # no bytes (or only blank lines): nothing to read, not an error
    repairs: Repairs = field(default_factory=Repairs)  # rows whose text was repaired
    # what the file's own dates said: (day first?, the value that decided, as "line N: 'v'")
    date_order: tuple[bool, str] | None = None
    _short_rows: list[BadRow] = field(default_factory=list, repr=False)

    @property
    def source(self) -> RawFile:
        """The file's packaging (compression, wide encoding)."""
        return self.raw or RawFile(self.path)

    @property
    def decoder(self) -> ValueDecoder:
        """How the values of the file are decoded."""
        return self.source.decoder

    @property
    def encoding(self) -> str:
        """The encoding the file is read in (as asked for, or detected)."""
        return self.source.encoding if self.format != "parquet" else "parquet"

    def decode_notices(self) -> list[str]:
        """What was repaired while decoding (after the file has been read)."""
        return self.repairs.notices(self.encoding)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The file's records, in order, as batches with a ``_line`` column."""
        if self.empty:
            return
        self.repairs = Repairs()  # a file may be read more than once (dates are planned first)
        if self.format == "parquet":
            yield from self._parquet_batches()
        elif self.format == "jsonl":
            yield from self._jsonl_batches()
        else:
            yield from self._csv_batches()

    # -- CSV -----------------------------------------------------------------------------
    def _csv_batches(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._csv_stream()
        except pa.ArrowInvalid as exc:
            if "straddling" in str(exc):
                raise InputFileError(
                    str(self.path),
                    f"a single value is longer than {self.options.block_bytes >> 20} MB after "
                    f"line {self.rows_read + 1}: probably a quote that is never closed",
                    code="field_too_large",
                ) from exc
            raise InputFileError(str(self.path), f"cannot parse as CSV: {exc}",
                                 code="unparseable_csv") from exc
        except (*READ_ERRORS, pa.ArrowException) as exc:
            raise self.source.read_error(exc) from exc

    def _csv_stream(self) -> Iterator[pa.RecordBatch]:
        # Trailing delimiters on every line (Excel) make nameless columns: read, then drop them.
        names = self.columns + [f"__trailing_{i}" for i in range(self.trailing_empty)]

        def on_invalid(row: pacsv.InvalidRow) -> str:
            line = int(row.number) if row.number is not None else -1
            bad = _field_count_problem(row, line)
            self.bad_rows.append(bad)
            if row.actual_columns < row.expected_columns:
                self._short_rows.append(bad)  # may be the truncated last line: see the tail
            return "skip"

        # A Python file object, not the path: Arrow then reads block by block on demand,
        # while its own file stream reads ahead (measured: 500 MB held for 16 MB blocks).
        handle = _TailKeeper(self.source.open())
        try:
            yield from self._csv_records(handle, names, on_invalid)
        finally:
            handle.close()

    def _csv_records(self, handle: _TailKeeper, names: list[str],
                     on_invalid: Callable[[pacsv.InvalidRow], str]) -> Iterator[pa.RecordBatch]:
        opts = self.options
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(
                block_size=opts.block_bytes, use_threads=False, skip_rows=self.header_line,
                # values stay bytes (the stream is ASCII-compatible); _to_text decodes them
                column_names=names, encoding="utf8",
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.binary() for n in names}, include_columns=self.columns,
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
        next_line = self.header_line + 1
        pending: pa.RecordBatch | None = None
        for batch in reader:
            if batch.num_rows == 0:
                continue
            lines, next_line = self._number_lines(batch.num_rows, next_line)
            self.rows_read += batch.num_rows
            if pending is not None:
                yield pending
            pending = self._to_text(batch, lines)
        self._inspect_tail(handle.tail)  # the whole file has been read now
        if pending is not None:
            yield self._without_truncated_tail(pending)

    def _without_truncated_tail(self, pending: pa.RecordBatch) -> pa.RecordBatch:
        """The last batch, its last record quarantined when the file ends inside a quoted
        value (CSV parsers swallow such a line silently)."""
        if not self.truncated_last_line:
            return pending
        last_line = pending.column("_line")[-1].as_py() if pending.num_rows else 0
        caught = [b for b in self.bad_rows if b.line > last_line]  # e.g. too few fields
        if caught:
            tail = max(caught, key=lambda b: b.line)
            tail.code, tail.reason = "truncated_last_line", _TRUNCATED_QUOTE
            return pending
        if pending.num_rows:
            last = pending.slice(pending.num_rows - 1).to_pylist()[0]
            self.bad_rows.append(BadRow(
                line=int(last["_line"]), column=None, value=None, code="truncated_last_line",
                reason=_TRUNCATED_QUOTE,
                record={k: v for k, v in last.items() if k != "_line"},
            ))
            pending = pending.slice(0, pending.num_rows - 1)
        return pending

    def _inspect_tail(self, tail: bytes) -> None:
        """Look at the end of the file: a last line cut inside a quoted value is otherwise
        swallowed silently by CSV parsers, and a short last row is probably cut off."""
        self.ends_with_newline = tail.endswith((b"\n", b"\r"))
        if self.ends_with_newline:
            return
        last = LINE_BREAK.split(tail)[-1]
        self.truncated_last_line = last.count(b'"') % 2 == 1
        for bad in self._short_rows:
            bad.reason += _TRUNCATED_HINT

    def _number_lines(self, n: int, start: int) -> tuple[pa.Array, int]:
        # Skipped (invalid) rows still occupy a line number: step over them.
        skipped = sorted(b.line for b in self.bad_rows if b.line >= start)
        out: list[int] = []
        line = start
        i = 0
        if not skipped:
            return pa.array(np.arange(start, start + n, dtype=np.int64)), start + n
        while len(out) < n:
            while i < len(skipped) and skipped[i] == line:
                line += 1
                i += 1
            out.append(line)
            line += 1
        return pa.array(out, pa.int64()), line

    def _to_text(self, batch: pa.RecordBatch, lines: pa.Array) -> pa.RecordBatch:
        """Binary columns to text in the file's encoding; a row with bytes the encoding does
        not define keeps them as U+FFFD and is flagged, never dropped."""
        arrays: list[pa.Array] = []
        replaced = np.zeros(batch.num_rows, dtype=bool)
        utf8 = np.zeros(batch.num_rows, dtype=bool)
        decoder = self.decoder
        for col in batch.columns:
            text, rep, u8 = decoder.column(col)
            arrays.append(text)
            replaced |= rep
            utf8 |= u8
        self.repairs.add(replaced, utf8, lines.to_numpy())
        return pa.RecordBatch.from_arrays([*arrays, lines], names=[*batch.schema.names, "_line"])

    @property
    def delimiter(self) -> str:
        """The field delimiter: an Excel ``sep=`` line, else ``--sep``, else by extension."""
        if self.sep_line:
            return self.sep_line
        if self.options.delimiter:
            return self.options.delimiter
        return "\t" if base_name(self.path).suffix.lower() in (".tsv", ".tab") else ","

    # -- Parquet -------------------------------------------------------------------------
    def _parquet_batches(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._parquet_stream()
        except (OSError, pa.ArrowException) as exc:
            # A damaged page shows only when it is read; name the file and the rows before it.
            raise InputFileError(
                str(self.path), f"cannot read the Parquet file after row {self.rows_read}: "
                f"{exc}", code="unreadable_file",
            ) from exc

    def _parquet_stream(self) -> Iterator[pa.RecordBatch]:
        pf = pq.ParquetFile(str(self.path))
        line = 1
        for batch in pf.iter_batches(batch_size=self.options.batch_rows):
            n = batch.num_rows
            lines = pa.array(np.arange(line, line + n, dtype=np.int64))
            line += n
            self.rows_read += n
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, lines], names=[*batch.schema.names, "_line"]
            )

    # -- JSON lines ----------------------------------------------------------------------
    def _jsonl_batches(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._jsonl_stream()
        except READ_ERRORS as exc:
            raise self.source.read_error(exc) from exc

    def _jsonl_stream(self) -> Iterator[pa.RecordBatch]:
        rows = JsonRows(self.columns)
        with self.source.open() as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                record = self._parse_json_line(raw, number)
                if record is None:
                    continue
                self.rows_read += 1
                rows.add(record, number)
                if rows.count >= self.options.batch_rows:
                    yield rows.flush()
        if rows.count:
            yield rows.flush()
        self.columns.extend(c for c in rows.names if c not in self.columns)

    def _parse_json_line(self, raw: bytes, number: int) -> dict[str, object] | None:
        text, repair = json_text(raw, number, self.decoder)
        self.repairs.add_line(repair, number)
        try:
            record = json.loads(text, object_pairs_hook=distinct_keys)
        except (ValueError, RecursionError) as exc:  # also numbers over 4,300 digits
            self.rows_read += 1
            detail = (f"{exc.msg} at character {exc.pos + 1}"
                      if isinstance(exc, json.JSONDecodeError) else str(exc))
            self.bad_rows.append(BadRow(
                line=number, column=None, value=text[:200], code="invalid_json",
                reason=f"not valid JSON ({detail})",
            ))
            return None
        if not isinstance(record, dict):
            self.rows_read += 1
            self.bad_rows.append(BadRow(
                line=number, column=None, value=text[:200], code="invalid_json",
                reason="each line must be a JSON object ({...})",
            ))
            return None
        return record


class _TailKeeper(io.RawIOBase):
    """A read-only stream that remembers the last bytes it handed out (the end of the file,
    once the parser is through)."""

    def __init__(self, source: io.BufferedIOBase) -> None:
        super().__init__()
        self._source = source
        self.tail = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._source.read(-1 if size is None else size)
        if len(data) >= _TAIL_BYTES:
            self.tail = data[-_TAIL_BYTES:]
        elif data:
            self.tail = (self.tail + data)[-_TAIL_BYTES:]
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._source.close()
        super().close()


def _field_count_problem(row: pacsv.InvalidRow, line: int) -> BadRow:
    text = row.text or ""
    return BadRow(
        line=line, column=None, value=text[:200], code="wrong_field_count",
        reason=f"has {row.actual_columns} fields, expected {row.expected_columns}",
    )


def detect_format(path: Path) -> str:
    """csv, parquet or jsonl from the file name (a compression suffix aside)."""
    suffix = base_name(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def open_file(path: str | Path, options: ReadOptions | None = None) -> SourceFile:
    """Open an input file, read and check its header; raise InputFileError when unusable."""
    p = Path(path)
    opts = options or ReadOptions()
    check_path(p)
    fmt = detect_format(p)
    if p.stat().st_size == 0:  # e.g. an empty object in a CRM export: nothing to import
        return SourceFile(p, [], fmt, opts, empty=True,
                          notices=["the file is empty (0 bytes): nothing to import"])
    raw = sniff(p, opts.encoding, binary=fmt == "parquet")
    if fmt == "parquet":
        return _open_parquet(p, opts, raw)
    src = SourceFile(p, [], fmt, opts, notices=list(raw.notices), raw=raw)
    if fmt == "jsonl":
        src.columns = jsonl_columns(src)
    else:
        read_header(src)
    return src


def _open_parquet(p: Path, opts: ReadOptions, raw: RawFile) -> SourceFile:
    if raw.compression:
        raise InputFileError(str(p), f"the Parquet file is {raw.compression}-compressed as a "
                             "whole: decompress it first (Parquet compresses its own pages)",
                             code="unsupported_format")
    try:
        schema = pq.read_schema(str(p))
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(str(p), f"not a readable Parquet file: {exc}",
                             code="unreadable_file") from exc
    return SourceFile(p, list(schema.names), "parquet", opts)


