"""Arrow helpers of the Salesforce adapter: headers matched whatever their case or layout
(``StageName``, ``STAGENAME``, Fivetran's ``stage_name``), blanks, booleans, Salesforce's
empty lookup id, soft-deleted rows and dates that must not precede a record's creation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

#: Salesforce's empty lookup (18 and 15 characters): a Data Export writes it where a lookup
#: field has no value (no parent account, no campaign, a lead not converted …).
EMPTY_IDS: tuple[str, ...] = ("000000000000000AAA", "000000000000000")
#: Columns an ELT tool or loader adds to every table: sync bookkeeping, not Salesforce data.
META_PREFIXES: tuple[str, ...] = ("_fivetran_", "_airbyte_", "_sdc_", "__sf_")

_TRUE = pa.array(["true", "t", "yes", "y", "1"], pa.string())
_NULL = pa.scalar(None, pa.string())
_DAY = r"^\d{4}-\d\d-\d\d"
# a date, or a date at midnight (UTC): what a date field looks like once re-saved with a time
_MIDNIGHT = _DAY + r"([ T]00:00(:00(\.0+)?)?(Z|[+-]00:?00)?)?$"


def column_key(name: str) -> str:
    """``StageName``, ``STAGENAME``, ``stage_name`` → ``stagename``; ``LossReason__c`` and
    Fivetran's ``loss_reason_c`` → ``lossreasonc``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def is_meta(name: str) -> bool:
    """An ELT tool's bookkeeping column (or one this adapter added)."""
    return name.lower().startswith(META_PREFIXES) or name == "_line"


@dataclass(frozen=True)
class Header:
    """A file's columns, found by their Salesforce API names whatever the case or layout."""

    by_key: Mapping[str, str]

    @classmethod
    def of(cls, columns: Iterable[str]) -> Header:
        by_key: dict[str, str] = {}
        for name in columns:
            if not is_meta(name):
                by_key.setdefault(column_key(name), name)
        return cls(by_key)

    def find(self, api_name: str) -> str | None:
        """The file's column for ``api_name``, or None when the file lacks it."""
        return self.by_key.get(column_key(api_name))

    def resolve(self, api_name: str) -> str:
        """The file's column for ``api_name``; the API name itself when the file lacks it (so
        a missing required column is named as Salesforce names it)."""
        return self.find(api_name) or api_name

    def resolve_all(self, api_names: Iterable[str]) -> list[str]:
        return [self.resolve(c) for c in api_names]


def null_text(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def as_text(a: pa.Array) -> pa.Array:
    return a if pa.types.is_string(a.type) else a.cast(pa.string())


def blank_to_null(a: pa.Array) -> pa.Array:
    text = as_text(a)
    return pc.if_else(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True),
                      _NULL, text)


def is_true(a: pa.Array) -> pa.Array:
    return pc.fill_null(
        pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(as_text(a))), value_set=_TRUE), False)


def is_false(a: pa.Array) -> pa.Array:
    """Explicitly false (empty is not false)."""
    low = pc.utf8_lower(pc.utf8_trim_whitespace(as_text(a)))
    falses = pa.array(["false", "f", "no", "n", "0"], pa.string())
    return pc.fill_null(pc.is_in(low, value_set=falses), False)


def equals(a: pa.Array | None, value: str, n: int) -> pa.Array:
    if a is None:
        return pa.array([False] * n, pa.bool_())
    return pc.fill_null(pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(a)), value), False)


def map_values(a: pa.Array, mapping: Mapping[str, str]) -> pa.Array:
    """Values looked up case-insensitively (trimmed) in ``mapping``; others stay as written
    (trimmed)."""
    text = pc.utf8_trim_whitespace(as_text(a))
    keys = pa.array([k.strip().lower() for k in mapping], pa.string())
    idx = pc.index_in(pc.utf8_lower(text), value_set=keys)
    mapped = pc.take(pa.array(list(mapping.values()), pa.string()), pc.fill_null(idx, 0))
    return pc.if_else(pc.is_valid(idx), mapped, text)


def classify(a: pa.Array | None, rules: Sequence[tuple[str, str]], other: str | None,
             n: int) -> pa.Array:
    """The label of the first regular expression (on the lower-case text) that matches;
    ``other`` for text no rule matches; NULL for empty values."""
    if a is None:
        return null_text(n)
    low = pc.utf8_lower(a)
    out = pa.array([other] * n, pa.string())
    for pattern, label in reversed(rules):
        hit = pc.fill_null(pc.match_substring_regex(low, pattern), False)
        out = pc.if_else(hit, pa.scalar(label, pa.string()), out)
    return pc.if_else(pc.is_null(a), _NULL, out)


def not_before(value: pa.Array, created: pa.Array | None) -> pa.Array:
    """A date (or a date at midnight, ``2022-12-21 00:00:00``) on or before the day of
    ``created`` becomes ``created``: such a field has no time of day, and the event cannot
    precede the record's creation. ISO-written values only (``YYYY-MM-DD…``)."""
    if created is None:
        return value
    v, c = pc.utf8_trim_whitespace(value), pc.utf8_trim_whitespace(created)
    day_only = pc.match_substring_regex(v, _MIDNIGHT)
    iso_created = pc.match_substring_regex(c, _DAY)
    early = pc.less_equal(pc.utf8_slice_codeunits(v, 0, 10), pc.utf8_slice_codeunits(c, 0, 10))
    clamp = pc.fill_null(pc.and_(pc.and_(day_only, iso_created), early), False)
    return pc.if_else(clamp, created, value)


def without_empty_ids(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Every text column with Salesforce's empty lookup id replaced by NULL."""
    empties = pa.array(EMPTY_IDS, pa.string())
    arrays = []
    for col in batch.columns:
        if pa.types.is_string(col.type):
            col = pc.if_else(pc.is_in(pc.utf8_trim_whitespace(col), value_set=empties),
                             _NULL, col)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def deletion_flags(columns: Sequence[str], header: Header) -> list[tuple[str, bool]]:
    """The columns that mark a row as deleted, each with the value that does: ``IsDeleted``
    true (the recycle bin), ``_fivetran_deleted`` true (deleted at the source),
    ``_fivetran_active`` false (an older version kept by Fivetran's history mode)."""
    names = {c.lower(): c for c in columns}
    flags = [(names[k], v) for k, v in (("_fivetran_deleted", True), ("_fivetran_active", False))
             if k in names]
    found = header.find("IsDeleted")
    return [(found, True), *flags] if found is not None else flags


def deleted_rows(batch: pa.RecordBatch, flags: Sequence[tuple[str, bool]]) -> pa.Array:
    """True for the rows one of ``flags`` marks as deleted."""
    out = pa.array([False] * batch.num_rows, pa.bool_())
    for name, value in flags:
        column = batch.column(name)
        out = pc.or_(out, is_true(column) if value else is_false(column))
    return out
