"""Row problems found while mapping source columns, carried to :func:`coerce` as marker columns.

Mapping (:mod:`revloop.ingest.spec`) sees the source columns; only coercion builds quarantine
records, and the pipeline hands the mapped batch straight from one to the other. So a problem
found during mapping (a NUL byte in a source value, a custom key that is also a column) travels
in the batch as a column named ``__problem__<code>:<column>``: per row the offending value, NULL
where the row is fine; the field's metadata holds the column, code and reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PROBLEM_PREFIX = "__problem__"
_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class RowProblem:
    """One kind of problem in one source column, for the rows where ``values`` is not NULL."""

    column: str
    code: str
    reason: str
    values: pa.Array  # the offending value per row; NULL where the row does not have it

    @property
    def field(self) -> pa.Field:
        """The marker column's field (name and metadata)."""
        return pa.field(f"{PROBLEM_PREFIX}{self.code}:{self.column}", pa.string(), metadata={
            "column": self.column, "code": self.code, "reason": self.reason})


def is_marker(name: str) -> bool:
    """Whether a batch column is a row-problem marker."""
    return name.startswith(PROBLEM_PREFIX)


def from_batch(batch: pa.RecordBatch) -> list[RowProblem]:
    """The row problems a mapped batch carries."""
    out = []
    for f, values in zip(batch.schema, batch.columns, strict=True):
        if is_marker(f.name):
            meta = {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
            out.append(RowProblem(meta["column"], meta["code"], meta["reason"], values))
    return out


def nul_bytes(batch: pa.RecordBatch, columns: Iterable[str]) -> list[RowProblem]:
    """Rows whose text in ``columns`` holds a NUL byte: PostgreSQL refuses it and the other
    engines would store a value no export or comparison handles, so such rows are refused on
    every engine."""
    out = []
    for name in columns:
        text = _text(batch.column(name))
        if text is None or not _may_hold_nul(text):
            continue
        mask = pc.fill_null(pc.match_substring(text, "\x00"), False)
        if not pc.any(mask).as_py():
            continue
        if name.startswith("__"):  # an adapter's JSON object of source columns: name the one
            out.extend(_nul_in_object(name, text, mask))
        else:
            out.append(_nul_problem(name, pc.if_else(mask, text, _NULL)))
    return out


def _nul_problem(column: str, values: pa.Array) -> RowProblem:
    return RowProblem(column, "nul_byte", f"{column} contains a NUL byte, which no store can "
                      "keep in text; remove it from the file", values)


def _nul_in_object(name: str, text: pa.Array, mask: pa.Array) -> list[RowProblem]:
    """One problem per source column whose value holds the NUL, in a JSON object an adapter
    built from several columns (parsed for the offending rows only)."""
    rows = pc.indices_nonzero(mask).to_pylist()
    by_key: dict[str, dict[int, str]] = {}
    for row, doc in zip(rows, text.take(pa.array(rows, pa.int64())).to_pylist(), strict=True):
        key, value = _member_with_nul(doc) or (name, doc)
        by_key.setdefault(key, {})[row] = value
    out = []
    for key, found in by_key.items():
        where = np.full(len(text), len(found), dtype=np.int64)  # → the trailing NULL
        where[list(found)] = np.arange(len(found))
        values = pa.array([*found.values(), None], pa.string()).take(pa.array(where))
        out.append(_nul_problem(key, values))
    return out


def _member_with_nul(doc: str) -> tuple[str, str] | None:
    try:
        members = json.loads(doc, strict=False)  # strict=False: control characters allowed
    except ValueError:
        return None
    if not isinstance(members, dict):
        return None
    return next(((str(k), str(v)) for k, v in members.items() if "\x00" in str(v)), None)


def _text(values: pa.Array) -> pa.Array | None:
    """``values`` as a plain string array, or None when it holds no text."""
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    return values if pa.types.is_string(values.type) else None


def _may_hold_nul(text: pa.Array) -> bool:
    """A quick look at the whole character buffer (the usual answer is no); a yes is then
    checked value by value."""
    data = text.buffers()[2]
    return data is not None and not np.frombuffer(data, dtype=np.uint8).all()


def with_markers(arrays: list[pa.Array], fields: list[pa.Field],
                 problems: list[RowProblem]) -> pa.RecordBatch:
    """A batch of ``arrays`` plus one marker column per problem."""
    return pa.RecordBatch.from_arrays(
        [*arrays, *(p.values for p in problems)],
        schema=pa.schema([*fields, *(p.field for p in problems)]),
    )


def align(parts: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """Batches with the same columns: markers some parts lack are added as all-NULL."""
    markers: dict[str, pa.Field] = {}
    for part in parts:
        markers.update({f.name: f for f in part.schema if is_marker(f.name)})
    if not markers:
        return parts
    out = []
    for part in parts:
        missing = [f for name, f in markers.items() if name not in part.schema.names]
        plain = [f for f in part.schema if not is_marker(f.name)]
        have = [f for f in part.schema if is_marker(f.name)]
        arrays = [part.column(f.name) for f in [*plain, *have]]
        arrays += [pa.nulls(part.num_rows, pa.string()) for _ in missing]
        ordered = pa.schema([*plain, *have, *missing])
        batch = pa.RecordBatch.from_arrays(arrays, schema=ordered)
        out.append(batch.select([*[f.name for f in plain], *markers]))
    return out
