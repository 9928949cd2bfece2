"""Engine-neutral query helpers: the few expressions whose SQL differs between DuckDB,
PostgreSQL and Spark, written once so that nothing above the store branches on the engine.

* **JSON text** — ``custom`` and ``properties`` are JSON objects stored as text. Ibis' JSON
  operations do not compile on PostgreSQL and need a Python UDF on Spark (Ibis 12), so each
  engine's own extraction function is called: ``json_extract_string`` (DuckDB, a JSON pointer
  path), ``json_extract_path_text`` (PostgreSQL), ``get_json_object`` (Spark, a bracket path).
  They agree on strings (unescaped), booleans (``true``/``false``) and JSON null (NULL); an
  empty string reads as NULL everywhere. Numbers and nested values come back as the engine
  renders them (importers write every custom value as a string, so this only concerns
  hand-written ``properties``).
* **Float literals** — PostgreSQL types a bare ``10.0`` as NUMERIC; a float literal goes
  through text so every engine types it float64.
* **Flags as numbers** — PostgreSQL casts a boolean to ``integer`` but not to ``bigint``
  (``CannotCoerce``); a flag becomes a number through int32.
* **Epoch seconds** — Spark's epoch is whole seconds while DuckDB and PostgreSQL keep
  microseconds; flooring everywhere makes ages, decays and comparisons identical.
* **Ordered collection** — one array per group, ordered: Spark has no ordered aggregate and
  DuckDB's needs far more memory than collecting structs and sorting the array (three ordered
  aggregates ran out of a 2 GB limit at 0.6M rows); PostgreSQL cannot hand arrays of records
  to Arrow, so it gets one ordered array per field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as idt

from revloop.errors import RevloopError

if TYPE_CHECKING:
    from revloop.store.base import Store

DAY_SECONDS = 86_400.0
_EPOCH = dt.datetime(1970, 1, 1)
# A number as text (what a safe numeric cast accepts); portable regex syntax only.
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


class QueryError(RevloopError):
    """A query argument no engine can use (e.g. a JSON key with characters a path cannot
    express)."""

    code = "bad_json_key"


# -- JSON ------------------------------------------------------------------------------------
def _text_at_path(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """Signature of DuckDB's and Spark's JSON text extraction functions."""


def _text_at_key(doc: idt.JSON, key: str) -> str:  # type: ignore[empty-body]
    """Signature of PostgreSQL's ``json_extract_path_text``."""


_duck_json: Any = ibis.udf.scalar.builtin(_text_at_path, name="json_extract_string")
_pg_json: Any = ibis.udf.scalar.builtin(_text_at_key, name="json_extract_path_text")
_spark_json: Any = ibis.udf.scalar.builtin(_text_at_path, name="get_json_object")


def json_key_ok(key: str) -> bool:
    """Whether every engine's JSON path can address ``key``."""
    return bool(key) and len(key) <= 200 and key.isprintable() and not any(
        ch in key for ch in "'[]\\\"")


def check_json_key(key: str) -> str:
    """``key`` if every engine can address it, else :class:`QueryError`."""
    if not json_key_ok(key):
        raise QueryError(f"attribute name {key!r}: use up to 200 printable characters "
                         "without quotes, brackets or backslashes")
    return key


def json_text(store: Store, column: Any, key: str) -> Any:
    """The top-level ``key`` of a JSON-object text column, as text (NULL when absent, null or
    empty)."""
    check_json_key(key)
    if store.engine == "postgres":
        value = _pg_json(column.cast("json"), key)
    elif store.engine == "spark":
        value = _spark_json(column, f"$['{key}']")
    else:
        pointer = "/" + key.replace("~", "~0").replace("/", "~1")
        value = _duck_json(column, pointer)
    value = value.cast("string")
    return ibis.ifelse(value == "", ibis.null("string"), value)


def trim(text: Any) -> Any:
    """Text without leading and trailing white space. (Ibis' ``strip()`` compiles for Spark to
    ``TRIM(' \\t\\n\\r\\v\\f' FROM …)``, where Spark reads ``\\v`` and ``\\f`` as the letters
    v and f and cuts them off the ends.)"""
    return text.re_replace(r"^\s+|\s+$", "")


def safe_float(text: Any) -> Any:
    """Text → float64, NULL where the text is not a number (no engine raises)."""
    return ibis.ifelse(text.re_search(NUMBER_PATTERN), text.cast("float64"),
                       ibis.null("float64"))


# -- numbers ---------------------------------------------------------------------------------
def float_literal(value: float | None) -> Any:
    """A float64 literal; NULL of float64 for None."""
    if value is None:
        return ibis.null("float64")
    return ibis.literal(repr(float(value))).cast("float64")


def as_float(value: Any) -> Any:
    """A column or a Python number as a float64 expression."""
    if hasattr(value, "cast"):
        return value.cast("float64")
    return float_literal(float(value))


def flag_as_int(flag: Any) -> Any:
    """A boolean column as int64: 1, 0 or NULL (through int32, the one integer type
    PostgreSQL casts a boolean to)."""
    return flag.cast("int32").cast("int64")


def round_float(value: Any, digits: int) -> Any:
    """Round and stay float64 (PostgreSQL rounds doubles through NUMERIC)."""
    return value.round(digits).cast("float64")


# -- time ------------------------------------------------------------------------------------
def epoch_seconds(stamp: Any) -> Any:
    """Whole seconds since 1970 of a timestamp column, as float64 (floored everywhere; Spark
    truncates instants before 1970 towards zero instead)."""
    return stamp.epoch_seconds().floor().cast("float64")


def epoch_seconds_of(when: dt.datetime) -> float:
    """Whole seconds since 1970 of a naive UTC datetime, as :func:`epoch_seconds` computes
    them on the engine."""
    return float((when - _EPOCH) // dt.timedelta(seconds=1))


def timestamp_literal(when: dt.datetime) -> Any:
    """A timestamp literal (naive, microseconds) that compares the same on every engine."""
    return ibis.literal(when, type="timestamp")


def null_timestamp() -> Any:
    """A NULL of timestamp type (a typed placeholder column in unions)."""
    return ibis.null().cast("timestamp")


def seconds(n: float) -> Any:
    """An interval of ``n`` seconds, rounded to the whole second (Spark has no finer one)."""
    return ibis.interval(seconds=round(n))


def days(n: float) -> Any:
    """An interval of ``n`` days (fractions kept to the second)."""
    return seconds(n * DAY_SECONDS)


# -- ordered collection ----------------------------------------------------------------------
def collect_sorted(store: Store, table: Any, by: str, fields: Sequence[str]) -> Any:
    """Per ``by``: the rows' ``fields`` as arrays ordered by ``fields`` (in that order).

    DuckDB and Spark give one column ``s`` (a sorted array of structs); PostgreSQL gives one
    ordered array per field, named as the field. Either way the result goes to Arrow.
    """
    if store.engine == "postgres":
        order = [table[f] for f in fields]
        return table.group_by(by).agg(**{f: table[f].collect(order_by=order) for f in fields})
    agg = table.group_by(by).agg(s=ibis.struct({f: table[f] for f in fields}).collect())
    return agg.select(by, s=agg.s.sort())
