"""JSON-lines files: every key of the file is a column, and records become string batches.

An object that repeats a key (or spells it twice in different case) keeps both values: the
later key becomes ``key (2)``, as a repeated CSV header label does."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from revloop.errors import InputFileError
from revloop.ingest.rawfile import READ_ERRORS
from revloop.ingest.textdecode import ValueDecoder

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


def json_text(raw: bytes, number: int, decoder: ValueDecoder) -> tuple[str, str | None]:
    """One line as text (a byte-order mark dropped) and the repair its decoding needed."""
    text, repair = decoder.decode(raw)
    return (text.removeprefix("\ufeff") if number == 1 else text), repair


def distinct_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, a repeated key (also in other case) numbered ``key (2)``
    instead of the last value silently replacing the first."""
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for key, value in pairs:
        name, n = key, 2
        while name.casefold() in seen:
            name, n = f"{key} ({n})", n + 1
        seen.add(name.casefold())
        out[name] = value
    return out


def _renamed(record: dict[str, Any]) -> list[str]:
    return [k for k in record if k.endswith(")") and " (" in k
            and k[: k.rindex(" (")].casefold() in {x.casefold() for x in record if x != k}]


def jsonl_columns(src: SourceFile) -> list[str]:
    """Every key of every record, in order of first appearance: the whole file is scanned,
    so a key that first shows up on the last line is a column too."""
    names: dict[str, None] = {}
    renamed: dict[str, None] = {}
    blank = True
    try:
        with src.source.open() as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                blank = False
                try:
                    record = json.loads(json_text(raw, number, src.decoder)[0],
                                        object_pairs_hook=distinct_keys)
                except (ValueError, RecursionError):
                    continue  # quarantined when the records are read
                if isinstance(record, dict):
                    names.update(dict.fromkeys(record))
                    renamed.update(dict.fromkeys(_renamed(record)))
    except READ_ERRORS as exc:
        raise src.source.read_error(exc) from exc
    if blank:  # only blank lines: as good as an empty file
        src.empty = True
        src.notices.append("the file holds only blank lines: nothing to import")
    elif not names:
        raise InputFileError(str(src.path), "no JSON object found in the file",
                             code="empty_file")
    src.notices.extend(f"a record repeats a key: the later one is read as {k!r}"
                       for k in renamed)
    return list(names)
