"""Turn source values into canonical typed columns, vectorised, sending bad rows to quarantine.

Input: a batch whose columns are canonical names holding text (or already-typed Arrow values
from Parquet), plus ``_line``. Output: the rows that passed, typed per the schema, and one
:class:`BadRow` per rejected row naming the first problem (all problems are in its record).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revloop.errors import InputFileError
from revloop.ingest import rowproblems
from revloop.ingest.readers import BadRow
from revloop.schema import Column, ColumnType, Entity
from revloop.store.base import ARROW_TYPES

CHECK_PREFIX = "__check__"
_NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
_NON_FINITE = r"^[-+]?(inf|infinity|nan)$"  # what float parsers (and JSON dumps) spell out
_WHOLE = r"^[-+]?\d+(\.0*)?$"  # an integer as digits, maybe with a zero fraction
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NULL_TEXT = pa.scalar(None, pa.string())
_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]

# Tried in order when a column has no explicit format; the first that parses a value wins.
# None of them reads 02/03/2024: whether such a file is day or month first is decided per
# file from all its values (revloop.ingest.dates), which adds that file's numeric formats.
DEFAULT_TIMESTAMP_FORMATS: tuple[str, ...] = (
    "iso",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d-%b-%Y",  # Excel: 5-Mar-2024
    "%d-%b-%y",
    "%d %b %Y",
    "%b %d, %Y",  # Excel: Mar 5, 2024
    "%B %d, %Y",
)
_ISO_START = r"^\d{4}-\d\d-\d\d"
_NUMERIC_DATE = r"^\d{1,2}[/.-]\d{1,2}[/.-]\d"  # 02/03/2024, 05.03.2024, 3-5-2024
_ORDERED_FORMAT = re.compile(r"^%[dm]\W%[dm]")  # a format that fixes the order of day and month
# Directives the round-trip check of a strptime result understands (see _exact)
_CHECKED_DIRECTIVES = re.compile(r"%[dmYyHIMSpbB]")


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
    values: pa.Array | None = None  # the value to show per row, when not the column's own


def coerce(
    entity: Entity, batch: pa.RecordBatch, options: CoerceOptions, file: str
) -> tuple[pa.RecordBatch, list[BadRow]]:
    """Typed canonical rows of ``batch`` and the rows that failed, with their reasons."""
    n = batch.num_rows
    arrays: list[pa.Array] = []
    # Problems found while mapping (NUL bytes, custom key clashes) come first: they concern
    # the raw source values.
    problems = [_Problem(pc.is_valid(p.values), p.column, p.code, p.reason, p.values)
                for p in rowproblems.from_batch(batch)]
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
            problems.extend(_Problem(p.mask, name, p.code, p.reason) for p in found)
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
                  if k != "_line" and not rowproblems.is_marker(k)}
        hits = [p for p, m in zip(problems, masks, strict=True) if m[i]]
        first = hits[0]
        column = first.column.removeprefix(CHECK_PREFIX)
        value = first.values[i].as_py() if first.values is not None else record.get(column)
        rows.append(BadRow(
            line=int(source[pos]["_line"]), column=column,
            value=None if value is None else str(value)[:200],
            code=first.code, reason=first.reason,
            record={**record, "_problems": [
                f"{h.column.removeprefix(CHECK_PREFIX)}: {h.reason}" for h in hits]},
        ))
    return rows


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str) and len(value) > 1000:
        return value[:1000] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # the record is JSON, which has no NaN or infinity
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
    typed, found = parse(col, text, options)
    problems.extend(found)
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
    """Parquet/JSON values that already have a type: cast when it is lossless and sensible;
    values that cannot be stored (NaN, infinity, integers out of range) quarantine their row."""
    if col.type is ColumnType.INTEGER and (
            pa.types.is_floating(values.type) or pa.types.is_decimal(values.type)
            or pa.types.is_unsigned_integer(values.type)):
        return _typed_integer(col, values)
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
    if col.type in (ColumnType.NUMBER, ColumnType.AMOUNT):
        non_finite = pc.fill_null(pc.or_(pc.is_nan(typed), pc.is_inf(typed)), False)
        problems.append(_non_finite(col, non_finite))
        typed = pc.if_else(non_finite, None, typed)
    if col.type is ColumnType.AMOUNT:
        problems.append(_negative(col, typed))
    return typed, problems


def _typed_integer(col: Column, values: pa.Array) -> tuple[pa.Array, list[_Problem]]:
    """Floats, decimals and unsigned integers to int64, exactly or not at all."""
    if pa.types.is_decimal(values.type):
        return _parse_integer(col, values.cast(pa.string()), CoerceOptions())
    if pa.types.is_unsigned_integer(values.type):
        if values.type.bit_width < 64:
            return values.cast(pa.int64()), []
        over = pc.fill_null(pc.greater(values, pa.scalar(_INT64_MAX, values.type)), False)
        return (pc.if_else(over, None, values).cast(pa.int64()),
                [_out_of_range(col, over)])
    floats = values.cast(pa.float64())
    non_finite = pc.fill_null(pc.or_(pc.is_nan(floats), pc.is_inf(floats)), False)
    finite = pc.if_else(non_finite, None, floats)
    # -2**63 is a float exactly; 2**63 is the first float past the largest int64
    over = pc.fill_null(pc.or_(pc.greater_equal(finite, 2.0**63),
                               pc.less(finite, -(2.0**63))), False)
    fraction = pc.fill_null(pc.and_(pc.invert(over),
                                    pc.not_equal(pc.floor(finite), finite)), False)
    bad = pc.or_(pc.or_(non_finite, over), fraction)
    typed = pc.if_else(bad, None, finite).cast(pa.int64())
    return typed, [_non_finite(col, non_finite), _out_of_range(col, over),
                   _not_integer(col, fraction)]


def _negative(col: Column, typed: pa.Array) -> _Problem:
    return _Problem(
        pc.fill_null(pc.less(typed, 0), False), col.name, "negative_amount",
        f"{col.name} must not be negative",
    )


def _non_finite(col: Column, mask: pa.Array) -> _Problem:
    return _Problem(mask, col.name, "non_finite_number",
                    f"{col.name} must be a finite number (infinity and NaN cannot be stored or "
                    "added up)")


def _out_of_range(col: Column, mask: pa.Array) -> _Problem:
    return _Problem(mask, col.name, "integer_out_of_range",
                    f"{col.name} must be a whole number between {_INT64_MIN} and {_INT64_MAX}")


def _not_integer(col: Column, mask: pa.Array) -> _Problem:
    return _Problem(mask, col.name, "not_an_integer",
                    f"{col.name} must be a whole number (like 250)")


def _parse_string(col: Column, text: pa.Array, o: CoerceOptions
                  ) -> tuple[pa.Array, list[_Problem]]:
    return text, []


def _parse_json(col: Column, text: pa.Array, o: CoerceOptions
                ) -> tuple[pa.Array, list[_Problem]]:
    trimmed = pc.utf8_trim_whitespace(text)
    ok = pc.and_(pc.starts_with(trimmed, "{"), pc.ends_with(trimmed, "}"))
    bad = pc.fill_null(pc.invert(ok), False)
    return pc.if_else(bad, None, text), [_Problem(
        bad, col.name, "invalid_json", f"{col.name} must be a JSON object like {{\"k\": \"v\"}}"
    )]


def _parse_number(col: Column, text: pa.Array, o: CoerceOptions
                  ) -> tuple[pa.Array, list[_Problem]]:
    cleaned = pc.replace_substring(pc.utf8_trim_whitespace(text), "_", "")
    numeric = pc.match_substring_regex(cleaned, _NUMBER)
    bad = pc.fill_null(pc.invert(numeric), False)
    typed = pc.if_else(bad, None, cleaned).cast(pa.float64())
    non_finite = pc.fill_null(pc.is_inf(typed), False)  # too large for a double: 1e309
    if pc.any(bad).as_py():
        spelled = _spelled_non_finite(cleaned)
        non_finite, bad = pc.or_(non_finite, spelled), pc.and_(bad, pc.invert(spelled))
    if pc.any(non_finite).as_py():
        typed = pc.if_else(non_finite, None, typed)
    return typed, [_non_finite(col, non_finite), _Problem(
        bad, col.name, "not_a_number", f"{col.name} must be a number (like 1200.50)")]


def _spelled_non_finite(cleaned: pa.Array) -> pa.Array:
    """``inf``, ``-Infinity``, ``NaN`` (as Python, JavaScript and JSON dumps write them)."""
    return pc.fill_null(pc.match_substring_regex(cleaned, _NON_FINITE, ignore_case=True), False)


def _parse_amount(col: Column, text: pa.Array, o: CoerceOptions
                  ) -> tuple[pa.Array, list[_Problem]]:
    typed, problems = _parse_number(col, text, o)
    # typed is NULL where a value is not a number, so a value has one problem at most
    return typed, [*problems, _negative(col, typed)]


def _parse_integer(col: Column, text: pa.Array, o: CoerceOptions
                   ) -> tuple[pa.Array, list[_Problem]]:
    """Whole numbers exactly: digits go to int64 without a float detour (a double keeps only
    15-17 digits); other spellings (1e3, 1.2345E4) are accepted only when exact."""
    cleaned = pc.replace_substring(pc.utf8_trim_whitespace(text), "_", "")
    whole = pc.fill_null(pc.match_substring_regex(cleaned, _WHOLE), False)
    digits = pc.replace_substring_regex(pc.if_else(whole, cleaned, _NULL_TEXT),
                                        r"^\+|\.0*$", "")
    try:
        typed, over = digits.cast(pa.int64()), pa.array(np.zeros(len(text), dtype=bool))
    except pa.ArrowInvalid:  # some value is past the int64 range
        typed, over = _int64_or_over(digits)
    other = pc.and_(pc.is_valid(cleaned), pc.invert(whole))
    if not pc.any(other).as_py():
        return typed, [_out_of_range(col, over)]
    return _integers_spelled_otherwise(col, cleaned, other, typed, over)


def _int64_or_over(digits: pa.Array) -> tuple[pa.Array, pa.Array]:
    """int64 of digit strings, NULL where past the int64 range, and that mask (compared as
    text: the magnitude's length, then its digits)."""
    negative = pc.starts_with(digits, "-")
    magnitude = pc.replace_substring_regex(digits, r"^-?0*", "")
    length = pc.utf8_length(magnitude)
    limit = pc.if_else(negative, str(-_INT64_MIN), str(_INT64_MAX))
    over = pc.or_(pc.greater(length, 19),
                  pc.and_(pc.equal(length, 19), pc.greater(magnitude, limit)))
    over = pc.fill_null(over, False)
    return pc.if_else(over, _NULL_TEXT, digits).cast(pa.int64()), over


def _integers_spelled_otherwise(
    col: Column, cleaned: pa.Array, other: pa.Array, typed: pa.Array, over: pa.Array
) -> tuple[pa.Array, list[_Problem]]:
    """Values that are not plain digits, judged one by one (only these rows: a file of
    integers rarely spells them so, and most such values are bad anyway)."""
    rows = pc.indices_nonzero(other).to_pylist()
    texts = cleaned.take(pa.array(rows, pa.int64())).to_pylist()
    codes = np.zeros(len(cleaned), dtype=np.int8)  # 1 non-finite, 2 out of range, 3 not whole
    values = pc.fill_null(typed, 0).to_numpy(zero_copy_only=False).copy()
    valid = pc.is_valid(typed).to_numpy(zero_copy_only=False).copy()
    for row, text in zip(rows, texts, strict=True):
        code, value = _judge_integer(text)
        codes[row] = code
        if value is not None:
            values[row], valid[row] = value, True
    return pa.array(values, pa.int64(), mask=~valid), [
        _non_finite(col, pa.array(codes == 1)),
        _out_of_range(col, pc.or_(over, pa.array(codes == 2))),
        _not_integer(col, pa.array(codes == 3)),
    ]


def _judge_integer(text: str) -> tuple[int, int | None]:
    """(problem code, value) of one non-digit spelling; see :func:`_integers_spelled_otherwise`."""
    if re.fullmatch(_NON_FINITE, text, re.IGNORECASE):
        return 1, None
    if not re.fullmatch(_NUMBER, text, re.ASCII):  # as the vectorised parsers: ASCII digits
        return 3, None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return 3, None
    if number != number.to_integral_value():
        return 3, None
    if number.adjusted() > 18:  # 10**19 and more: checked before building a huge int
        return 2, None
    value = int(number)
    return (0, value) if _INT64_MIN <= value <= _INT64_MAX else (2, None)


def _parse_boolean(col: Column, text: pa.Array, o: CoerceOptions
                   ) -> tuple[pa.Array, list[_Problem]]:
    low = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    is_true = pc.is_in(low, pa.array(_TRUE))
    is_false = pc.is_in(low, pa.array(_FALSE))
    bad = pc.fill_null(pc.and_(pc.is_valid(low), pc.invert(pc.or_(is_true, is_false))), False)
    typed = pc.if_else(pc.is_null(low), None, pc.if_else(is_true, True, False))
    typed = pc.if_else(bad, None, typed)
    return typed, [_Problem(bad, col.name, "not_a_boolean",
                            f"{col.name} must be true or false (also yes/no, 1/0)")]


def _parse_timestamp(col: Column, text: pa.Array, o: CoerceOptions
                     ) -> tuple[pa.Array, list[_Problem]]:
    formats = tuple(o.formats.get(col.name, DEFAULT_TIMESTAMP_FORMATS))
    trimmed = pc.utf8_trim_whitespace(text)
    result = pa.nulls(len(text), pa.timestamp("us"))
    for fmt in formats:
        missing = pc.and_(pc.is_null(result), pc.is_valid(trimmed))
        if not pc.any(missing).as_py():
            break
        # only the values no earlier format read: most formats fail at the first character
        result = pc.coalesce(result, _parse_with(pc.if_else(missing, trimmed, _NULL_TEXT), fmt))
    bad = pc.and_(pc.is_valid(trimmed), pc.is_null(result))
    typed = result.cast(pa.date32()) if col.type is ColumnType.DATE else result
    return typed, _date_problems(col, trimmed, bad, formats)


def _date_problems(col: Column, text: pa.Array, bad: pa.Array, formats: Sequence[str]
                   ) -> list[_Problem]:
    """Unreadable dates: a numeric one (02/30/2024, or 31/03/2024 in a month-first file)
    names the order and formats the file is read with; any other lists every format tried."""
    kind = "date" if col.type is ColumnType.DATE else "date/time"
    shown = ", ".join("ISO 8601" if f == "iso" else f for f in formats)
    generic = f"{col.name} is not a {kind} in a known format ({shown})"
    ordered = [f for f in formats if _ORDERED_FORMAT.match(f)]
    if not ordered or not pc.any(bad).as_py():
        return [_Problem(bad, col.name, "unparseable_date", generic)]
    numeric = pc.fill_null(pc.match_substring_regex(text, _NUMERIC_DATE), False)
    order = "day first" if ordered[0].startswith("%d") else "month first"
    return [
        _Problem(pc.and_(bad, numeric), col.name, "unparseable_date",
                 f"{col.name} is not a {kind} in the format this file's dates are read with "
                 f"({', '.join(ordered)}: {order}); correct the value, or pass --dayfirst, "
                 "--monthfirst or --date-format if the order is wrong"),
        _Problem(pc.and_(bad, pc.invert(numeric)), col.name, "unparseable_date", generic),
    ]


def _parse_with(text: pa.Array, fmt: str) -> pa.Array:
    if fmt == "iso":
        # only ISO-looking values: one other value sends Arrow's cast to the per-value path
        looks_iso = pc.fill_null(pc.match_substring_regex(text, _ISO_START), False)
        return _parse_iso(pc.if_else(looks_iso, text, _NULL_TEXT))
    if fmt == "epoch_ms":
        numeric = pc.match_substring_regex(text, r"^\d{9,14}$")
        ms = pc.if_else(numeric, text, None).cast(pa.int64())
        return pc.multiply(ms, 1000).cast(pa.timestamp("us"))
    return _exact(text, pc.strptime(text, format=fmt, unit="us", error_is_null=True), fmt)


def _exact(text: pa.Array, parsed: pa.Array, fmt: str) -> pa.Array:
    """``parsed`` without the values strptime rolled over: it reads 2/29/2023 as 1 March and
    %Y reads 02/23/26 as the year 26. A value counts only if writing it back with ``fmt``
    gives the text again (up to case, spaces and leading zeros)."""
    if "%d" not in fmt or _CHECKED_DIRECTIVES.sub("", fmt).count("%"):
        return parsed  # a directive the check cannot write back: trust strptime
    if not pc.any(pc.is_valid(parsed)).as_py():
        return parsed
    written = pc.strftime(parsed.cast(pa.timestamp("s")), format=fmt)
    same = pc.equal(_comparable(written), _comparable(text))
    return pc.if_else(pc.fill_null(same, True), parsed, pa.scalar(None, pa.timestamp("us")))


def _comparable(text: pa.Array) -> pa.Array:
    """Lower case, single digits padded with a zero (twice: a match consumes the separator
    the next digit would need), then no white space."""
    out = pc.utf8_lower(text)
    for _ in range(2):
        out = pc.replace_substring_regex(out, r"(^|\D)(\d)(\D|$)", r"\10\2\3")
    return pc.replace_substring_regex(out, r"\s+", "")


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
        escaped = _escape_controls(escaped)
        fragment = pc.binary_join_element_wise("," + json.dumps(name) + ':"', escaped, '"', "")
        fragments.append(pc.fill_null(fragment, ""))
    joined = fragments[0] if len(fragments) == 1 else pc.binary_join_element_wise(
        *fragments, "")
    body = pc.utf8_slice_codeunits(joined, 1)  # without the first fragment's comma
    wrapped = pc.binary_join_element_wise("{", body, "}", "")
    return pc.if_else(pc.equal(body, ""), pa.scalar(None, pa.string()), wrapped)


_CONTROLS = [chr(c) for c in range(1, 0x20) if chr(c) not in "\n\r\t"]


def _escape_controls(text: pa.Array) -> pa.Array:
    """Other control characters as JSON ``\\u00XX`` escapes (one pass per character, only
    for a column that has any). NUL stays as it is: the mapping step quarantines its row,
    since PostgreSQL can store neither the byte nor its escape in text it reads as JSON."""
    if not pc.any(pc.match_substring_regex(text, r"[\x01-\x08\x0b\x0c\x0e-\x1f]")).as_py():
        return text
    for char in _CONTROLS:
        text = pc.replace_substring(text, char, f"\\u{ord(char):04x}")
    return text
