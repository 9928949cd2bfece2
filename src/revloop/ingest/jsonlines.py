"""JSON-lines files: every key of the file is a column, and records become string batches."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow as pa

from revloop.errors import InputFileError
from revloop.ingest.rawfile import READ_ERRORS

if TYPE_CHECKING:
    from revloop.ingest.readers import SourceFile


class JsonRows:
    """Columns of JSON-lines records being collected into one batch; a key first seen in this
    batch becomes a column, NULL for the records before it."""

    def __init__(self, names: list[str]) -> None:
        self.cols: dict[str, list[str | None]] = {n: [] for n in names}
        self.lines: list[int] = []

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def names(self) -> list[str]:
        return list(self.cols)

    def add(self, record: dict[str, object], line: int) -> None:
        cols = self.cols
        for key in record:
            if key not in cols:
                cols[key] = [None] * len(self.lines)
        for name, values in cols.items():
            v = record.get(name)
            values.append(v if v is None or isinstance(v, str) else json.dumps(v))
        self.lines.append(line)

    def flush(self) -> pa.RecordBatch:
        arrays = [pa.array(v, pa.string()) for v in self.cols.values()]
        batch = pa.RecordBatch.from_arrays(
            [*arrays, pa.array(self.lines, pa.int64())], names=[*self.cols, "_line"])
        self.cols = {n: [] for n in self.cols}
        self.lines = []
        return batch


def json_text(raw: bytes, number: int, encoding: str) -> str:
    text = raw.decode(encoding)
    return text.removeprefix("\ufeff") if number == 1 else text


def jsonl_columns(src: SourceFile) -> list[str]:
    """Every key of every record, in order of first appearance: the whole file is scanned,
    so a key that first shows up on the last line is a column too."""
    names: dict[str, None] = {}
    try:
        with src.source.open() as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(json_text(raw, number, src.text_encoding))
                except (ValueError, RecursionError):
                    continue  # quarantined when the records are read
                if isinstance(record, dict):
                    names.update(dict.fromkeys(record))
    except READ_ERRORS as exc:
        raise src.source.read_error(exc) from exc
    if not names:
        raise InputFileError(str(src.path), "no JSON object found in the file",
                             code="empty_file")
    return list(names)
