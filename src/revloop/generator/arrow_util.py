"""Turning the simulation's integer arrays into Arrow columns (ids, times, dates, JSON)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revloop.generator.config import DAY
from revloop.generator.draws import BoolArray, FloatArray, IntArray


def ids(prefix: str, values: IntArray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, e.g. ``acc-000042``."""
    text = pc.utf8_lpad(pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string()),
                        width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals (null if any part is)."""
    return pc.binary_join_element_wise(*parts, "")


def timestamps(seconds: IntArray, valid: BoolArray | None = None) -> pa.Array:
    """Naive UTC microsecond timestamps from epoch seconds (null where not ``valid``)."""
    arr = pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000,
                   mask=None if valid is None else ~np.asarray(valid, dtype=bool))
    return arr.cast(pa.timestamp("us"))


def dates(seconds: IntArray, valid: BoolArray | None = None) -> pa.Array:
    """Dates of epoch seconds."""
    days = (np.asarray(seconds, dtype=np.int64) // DAY).astype(np.int32)
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(days, mask=mask).cast(pa.date32())


def days_to_dates(days: IntArray) -> pa.Array:
    """Dates from day numbers since the epoch."""
    return pa.array(np.asarray(days, dtype=np.int32)).cast(pa.date32())


def pick(names: Sequence[str], index: IntArray, valid: BoolArray | None = None) -> pa.Array:
    """``names[index]`` as strings, null where ``index`` < 0 or not ``valid``."""
    idx = np.asarray(index, dtype=np.int64)
    ok = idx >= 0 if valid is None else (idx >= 0) & np.asarray(valid, dtype=bool)
    return pa.array(list(names), pa.string()).take(pa.array(np.where(ok, idx, 0), mask=~ok))


def take(values: pa.Array, index: IntArray, valid: BoolArray | None = None) -> pa.Array:
    """``values[index]``, null where ``index`` < 0 or not ``valid``."""
    idx = np.asarray(index, dtype=np.int64)
    ok = idx >= 0 if valid is None else (idx >= 0) & np.asarray(valid, dtype=bool)
    return values.take(pa.array(np.where(ok, idx, 0), mask=~ok))


def floats(values: FloatArray, valid: BoolArray | None = None) -> pa.Array:
    """Float64 values, null where not ``valid``."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(values, dtype=np.float64), mask=mask)


def ints(values: IntArray, valid: BoolArray | None = None) -> pa.Array:
    """Int64 values, null where not ``valid``."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(values, dtype=np.int64), mask=mask)


def bools(values: BoolArray, valid: BoolArray | None = None) -> pa.Array:
    """Booleans, null where not ``valid``."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(values, dtype=bool), mask=mask)


def iso(seconds: IntArray) -> pa.Array:
    """ISO-8601 text of epoch seconds (for JSON attributes)."""
    return pc.strftime(timestamps(seconds), format="%Y-%m-%dT%H:%M:%S")


def hex_ids(values: IntArray) -> pa.Array:
    """16-character lower-case hexadecimal text of non-negative 64-bit integers."""
    v = np.asarray(values, dtype=np.uint64)
    digits = np.array(list("0123456789abcdef"))
    nibbles = (v[:, None] >> (np.arange(15, -1, -1, dtype=np.uint64) * np.uint64(4))[None, :]) \
        & np.uint64(15)
    chars = digits[nibbles.astype(np.int64)]
    return pa.array(np.ascontiguousarray(chars).view("<U16").ravel())


def from_keys(keys: IntArray, valid: np.ndarray, render: Callable[[int], str]) -> pa.Array:
    """Strings for integer keys (null where not ``valid``), rendering each distinct key
    once."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    texts = pa.array([render(k) for k in uniq], pa.string())
    return take(texts, inverse, valid)


def previous_in_group(group: IntArray, stage: IntArray) -> IntArray:
    """The stage before each row within its group (rows sorted by group, time); -1 first."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    prev = np.r_[-1, stage[:-1]]
    first = np.r_[True, group[1:] != group[:-1]]
    return np.where(first, -1, prev)
