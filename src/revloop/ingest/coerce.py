"""Turn source values into canonical typed columns, vectorised, sending bad rows to quarantine.

Input: a batch whose columns are canonical names holding text (or already-typed Arrow values
from Parquet), plus ``_line``. Output: the rows that passed, typed per the schema, and one
:class:`BadRow` per rejected row naming the first problem (all problems are in its record).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from revloop.errors import InputFileError
from revloop.ingest.readers import BadRow
from revloop.schema import Column, ColumnType, Entity
from revloop.store.base import ARROW_TYPES

CHECK_PREFIX = "__check__"
_NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]

# Tried in order when a column has no explicit format; the first that parses a value wins.
DEFAULT_TIMESTAMP_FORMATS: tuple[str, ...] = (
    "iso",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y/%m/%d",
)


@dataclass
class CoerceOptions:
    """Per-column parsing instructions."""

    formats: dict[str, Sequence[str]] = field(default_factory=dict)  # column -> date formats
    max_field_bytes: int = 1 << 20
    checks: dict[str, ColumnType] = field(default_factory=dict)  # custom attribute -> type


@dataclass
class _Problem:
    mask: pa.Array  # True where the row has this problem
    column: str
    code: str
    reason: str
    codes: pa.Array | None = None  # per-row code and reason when they vary by row
    reasons: pa.Array | None = None

    def at(self, i: int) -> tuple[str, str]:
        if self.codes is not None and self.reasons is not None:
            return str(self.codes[i].as_py()), str(self.reasons[i].as_py())
        return self.code, self.reason


def coerce(
    entity: Entity, batch: pa.RecordBatch, options: CoerceOptions, file: str
) -> tuple[pa.RecordBatch, list[BadRow]]:
    """Typed canonical rows of ``batch`` and the rows that failed, with their reasons."""
    n = batch.num_rows
    arrays: list[pa.Array] = []
    problems: list[_Problem] = []
    names = set(batch.schema.names)
    for col in entity.columns:
        if col.name in names:
            typed, found = _coerce_column(col, batch.column(col.name), options, file)
        else:
            typed, found = pa.nulls(n, ARROW_TYPES[col.type]), []
        problems.extend(found)
        if col.required:
            problems.append(_Problem(
                pc.is_null(typed), col.name, "missing_required",
                f"{col.name} is required and is empty",
            ))
        arrays.append(typed)
    for name in batch.schema.names:
        if name.startswith(CHECK_PREFIX):  # a typed custom attribute: validate, do not store
            column, kind = name[len(CHECK_PREFIX):], options.checks[name[len(CHECK_PREFIX):]]
            _, found = _coerce_column(Column(column, kind, ""), batch.column(name), options, file)
            problems.extend(_Problem(p.mask, name, p.code, p.reason, p.codes, p.reasons)
                            for p in found)
    out = pa.RecordBatch.from_arrays(
        [*arrays, batch.column("_line")], names=[*entity.column_names, "_line"]
    )
    problems = [p for p in problems if pc.any(p.mask).as_py()]
    if not problems:
        return out, []
    bad_any = problems[0].mask
    for p in problems[1:]:
        bad_any = pc.or_(bad_any, p.mask)
    return out.filter(pc.invert(bad_any)), _bad_rows(batch, problems, bad_any)


def _bad_rows(batch: pa.RecordBatch, problems: list[_Problem], bad_any: pa.Array) -> list[BadRow]:
    idx = pc.indices_nonzero(bad_any).to_pylist()
    masks = [p.mask.to_pylist() for p in problems]
    source = batch.take(pa.array(idx)).to_pylist()
    rows: list[BadRow] = []
    for pos, i in enumerate(idx):
        record = {k.removeprefix(CHECK_PREFIX): _plain(v) for k, v in source[pos].items()
                  if k != "_line"}
        hits = [p for p, m in zip(problems, masks, strict=True) if m[i]]
        first = hits[0]
        code, reason = first.at(i)
        first.column = first.column.removeprefix(CHECK_PREFIX)
        value = record.get(first.column)
        rows.append(BadRow(
            line=int(source[pos]["_line"]), column=first.column,
            value=None if value is None else str(value)[:200],
            code=code, reason=reason,
            record={**record, "_problems": [f"{h.column}: {h.at(i)[1]}" for h in hits]},
        ))
    return rows


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str) and len(value) > 1000:
        return value[:1000] + "…"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _coerce_column(
    col: Column, values: pa.Array, options: CoerceOptions, file: str
) -> tuple[pa.Array, list[_Problem]]:
    target = ARROW_TYPES[col.type]
    if pa.types.is_nested(values.type) and col.type is not ColumnType.JSON:
        raise InputFileError(
            file, f"column {col.name!r} is of type {values.type}, which revloop cannot store as "
            f"{col.type.value}", code="unknown_column_type",
        )
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    if not pa.types.is_string(values.type):
        return _from_typed(col, values, target, file)
    text = pc.if_else(pc.equal(pc.utf8_trim_whitespace(values), ""), None, values)
    problems: list[_Problem] = []
    too_long = pc.greater(pc.binary_length(text), options.max_field_bytes)
    if pc.any(too_long).as_py():
        size = pc.max(pc.binary_length(text)).as_py()
        problems.append(_Problem(
            pc.fill_null(too_long, False), col.name, "field_too_large",
            f"{col.name} is {size / (1 << 20):.1f} MiB, over the "
            f"{options.max_field_bytes / (1 << 20):g} MiB limit (REVLOOP_MAX_FIELD_BYTES)",
        ))
        text = pc.if_else(too_long, None, text)
    parse = _PARSERS[col.type]
    typed, bad = parse(col, text, options)
    if bad is not None:
        problems.append(bad)
    if col.values:
        allowed = pa.array(list(col.values))
        outside = pc.and_(pc.is_valid(typed), pc.invert(pc.is_in(typed, allowed)))
        problems.append(_Problem(
            pc.fill_null(outside, False), col.name, "unknown_value",
            f"{col.name} must be one of {', '.join(col.values)}",
        ))
    return typed, problems


def _from_typed(
    col: Column, values: pa.Array, target: pa.DataType, file: str
) -> tuple[pa.Array, list[_Problem]]:
    """Parquet/JSON values that already have a type: cast when it is lossless and sensible."""
    try:
        if col.type in (ColumnType.STRING, ColumnType.JSON):
            typed = values.cast(pa.string())
        elif col.type is ColumnType.TIMESTAMP and pa.types.is_timestamp(values.type):
            typed = _naive_utc(values)
        else:
            typed = values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputFileError(
            file, f"column {col.name!r} is of type {values.type}, expected {col.type.value}: "
            f"{exc}", code="unknown_column_type",
        ) from exc
    problems = []
    if col.type is ColumnType.AMOUNT:
        problems.append(_negative(col, typed))
    return typed, problems


def _negative(col: Column, typed: pa.Array) -> _Problem:
    return _Problem(
        pc.fill_null(pc.less(typed, 0), False), col.name, "negative_amount",
        f"{col.name} must not be negative",
    )


def _parse_string(col: Column, text: pa.Array, o: CoerceOptions) -> tuple[pa.Array, None]:
    return text, None


def _parse_json(col: Column, text: pa.Array, o: CoerceOptions) -> tuple[pa.Array, _Problem | None]:
    trimmed = pc.utf8_trim_whitespace(text)
    ok = pc.and_(pc.starts_with(trimmed, "{"), pc.ends_with(trimmed, "}"))
    bad = pc.fill_null(pc.invert(ok), False)
    return pc.if_else(bad, None, text), _Problem(
        bad, col.name, "invalid_json", f"{col.name} must be a JSON object like {{\"k\": \"v\"}}"
    )


def _parse_number(col: Column, text: pa.Array, o: CoerceOptions) -> tuple[pa.Array, _Problem]:
    cleaned = pc.replace_substring(pc.utf8_trim_whitespace(text), "_", "")
    numeric = pc.match_substring_regex(cleaned, _NUMBER)
    bad = pc.fill_null(pc.invert(numeric), False)
    typed = pc.if_else(bad, None, cleaned).cast(pa.float64())
    return typed, _Problem(bad, col.name, "not_a_number",
                           f"{col.name} must be a number (like 1200.50)")


def _parse_amount(col: Column, text: pa.Array, o: CoerceOptions) -> tuple[pa.Array, _Problem]:
    typed, problem = _parse_number(col, text, o)
    negative = _negative(col, typed)
    # One problem per value: a value cannot be both non-numeric and negative.
    mask = pc.or_(problem.mask, negative.mask)
    code = pc.if_else(problem.mask, problem.code, negative.code)
    return typed, _Problem(mask, col.name, "", "", codes=code,
                           reasons=pc.if_else(problem.mask, problem.reason, negative.reason))


def _parse_integer(col: Column, text: pa.Array, o: CoerceOptions) -> tuple[pa.Array, _Problem]:
    number, problem = _parse_number(col, text, o)
    fractional = pc.fill_null(pc.not_equal(pc.floor(number), number), False)
    bad = pc.or_(problem.mask, fractional)
    typed = pc.if_else(bad, None, number).cast(pa.int64())
    return typed, _Problem(bad, col.name, "not_an_integer",
                           f"{col.name} must be a whole number (like 250)")


def _parse_boolean(col: Column, text: pa.Array, o: CoerceOptions) -> tuple[pa.Array, _Problem]:
    low = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    is_true = pc.is_in(low, pa.array(_TRUE))
    is_false = pc.is_in(low, pa.array(_FALSE))
    bad = pc.fill_null(pc.and_(pc.is_valid(low), pc.invert(pc.or_(is_true, is_false))), False)
    typed = pc.if_else(pc.is_null(low), None, pc.if_else(is_true, True, False))
    typed = pc.if_else(bad, None, typed)
    return typed, _Problem(bad, col.name, "not_a_boolean",
                           f"{col.name} must be true or false (also yes/no, 1/0)")


def _parse_timestamp(col: Column, text: pa.Array, o: CoerceOptions) -> tuple[pa.Array, _Problem]:
    formats = tuple(o.formats.get(col.name, DEFAULT_TIMESTAMP_FORMATS))
    trimmed = pc.utf8_trim_whitespace(text)
    result = pa.nulls(len(text), pa.timestamp("us"))
    for fmt in formats:
        missing = pc.and_(pc.is_null(result), pc.is_valid(trimmed))
        if not pc.any(missing).as_py():
            break
        parsed = _parse_with(trimmed, fmt)
        result = pc.if_else(pc.is_null(result), parsed, result)
    bad = pc.and_(pc.is_valid(trimmed), pc.is_null(result))
    shown = ", ".join("ISO 8601" if f == "iso" else f for f in formats)
    kind = "date" if col.type is ColumnType.DATE else "date/time"
    typed = result.cast(pa.date32()) if col.type is ColumnType.DATE else result
    return typed, _Problem(bad, col.name, "unparseable_date",
                           f"{col.name} is not a {kind} in a known format ({shown})")


def _parse_with(text: pa.Array, fmt: str) -> pa.Array:
    if fmt == "iso":
        return _parse_iso(text)
    if fmt == "epoch_ms":
        numeric = pc.match_substring_regex(text, r"^\d{9,14}$")
        ms = pc.if_else(numeric, text, None).cast(pa.int64())
        return pc.multiply(ms, 1000).cast(pa.timestamp("us"))
    return pc.strptime(text, format=fmt, unit="us", error_is_null=True)


def _parse_iso(text: pa.Array) -> pa.Array:
    # Arrow casts ISO 8601 strictly: naive values to a naive type, zoned values to a zoned one.
    zoned = pc.match_substring_regex(text, r"(Z|[+-]\d\d:?\d\d)$")
    out = pa.nulls(len(text), pa.timestamp("us"))
    normalised = pc.replace_substring_regex(text, r"^(\d{4}-\d\d-\d\d)[T ]", r"\1T")
    for is_zoned in (False, True):
        part = pc.if_else(pc.equal(zoned, is_zoned), normalised, None)
        target = pa.timestamp("us", "UTC") if is_zoned else pa.timestamp("us")
        try:
            parsed = part.cast(target)
        except pa.ArrowInvalid:
            parsed = _cast_each(part, target)
        if is_zoned:
            parsed = _naive_utc(parsed)
        out = pc.if_else(pc.is_null(out), parsed, out)
    return out


def _cast_each(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Element-wise cast, NULL where a value does not parse (slow path, only on bad data)."""
    out: list[object] = []
    for v in values.to_pylist():
        if v is None:
            out.append(None)
            continue
        try:
            out.append(pa.array([v]).cast(target)[0].as_py())
        except pa.ArrowInvalid:
            out.append(None)
    return pa.array(out, target)


def _naive_utc(values: pa.Array) -> pa.Array:
    """Zoned timestamps as naive UTC wall time (Arrow stores the UTC instant underneath)."""
    if values.type.tz is None:
        return values.cast(pa.timestamp("us"))
    return values.cast(pa.timestamp("us", "UTC")).cast(pa.int64()).cast(pa.timestamp("us"))


_PARSERS = {
    ColumnType.STRING: _parse_string,
    ColumnType.JSON: _parse_json,
    ColumnType.NUMBER: _parse_number,
    ColumnType.AMOUNT: _parse_amount,
    ColumnType.INTEGER: _parse_integer,
    ColumnType.BOOLEAN: _parse_boolean,
    ColumnType.DATE: _parse_timestamp,
    ColumnType.TIMESTAMP: _parse_timestamp,
}


def json_objects(columns: dict[str, pa.Array], length: int) -> pa.Array:
    """One JSON object per row from named columns (text, or cast to text), skipping empty
    values; NULL when a row has none.

    Each column's fragment carries its own leading comma and empty ones become "", so the
    join never has to skip NULLs (Arrow's null-skipping join returned fewer rows than it was
    given when every input of a row was NULL).
    """
    if not columns:
        return pa.nulls(length, pa.string())
    fragments = []
    for name, values in columns.items():
        text = values if pa.types.is_string(values.type) else values.cast(pa.string())
        escaped = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        for raw, esc in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"),
                         ("\t", "\\t")):
            escaped = pc.replace_substring(escaped, raw, esc)
        escaped = pc.replace_substring_regex(escaped, r"[\x00-\x1f]", " ")
        fragment = pc.binary_join_element_wise("," + json.dumps(name) + ':"', escaped, '"', "")
        fragments.append(pc.fill_null(fragment, ""))
    joined = fragments[0] if len(fragments) == 1 else pc.binary_join_element_wise(
        *fragments, "")
    body = pc.utf8_slice_codeunits(joined, 1)  # without the first fragment's comma
    wrapped = pc.binary_join_element_wise("{", body, "}", "")
    return pc.if_else(pc.equal(body, ""), pa.scalar(None, pa.string()), wrapped)
