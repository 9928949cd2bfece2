"""Arrow transforms of HubSpot values (text in, text out; coerce types the result)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from revloop.ingest.spec import Transform
from revloop.schema import CHANNELS

NULL_TEXT = pa.scalar(None, pa.string())
_TRUE = pa.array(["true", "t", "yes", "y", "1"], pa.string())


def text(a: pa.Array) -> pa.Array:
    return a if pa.types.is_string(a.type) else a.cast(pa.string())


def null_where_blank(a: pa.Array) -> pa.Array:
    a = text(a)
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(a), ""), True)
    return pc.if_else(blank, NULL_TEXT, a)


def is_true(a: pa.Array) -> pa.Array:
    """True where the value reads as true (``true``, ``1``, ``yes``…); never null."""
    low = pc.utf8_lower(pc.utf8_trim_whitespace(text(a)))
    return pc.fill_null(pc.is_in(low, value_set=_TRUE), False)


def coalesce(columns: list[pa.Array], n: int) -> pa.Array:
    """The first non-blank value of ``columns``, row by row (null when all are blank)."""
    out = pa.nulls(n, pa.string())
    for col in columns:
        out = pc.if_else(pc.is_null(out), null_where_blank(col), out)
    return out


def map_values(a: pa.Array, mapping: dict[str, str | None]) -> pa.Array:
    """Values through ``mapping`` (trimmed, case-insensitive keys); others unchanged."""
    values = text(a)
    low = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    keys = pa.array([k.strip().lower() for k in mapping], pa.string())
    idx = pc.index_in(low, value_set=keys)
    mapped = pa.array(list(mapping.values()), pa.string())
    return pc.if_else(pc.is_valid(idx), pc.take(mapped, pc.fill_null(idx, 0)), values)


def percent(a: pa.Array) -> pa.Array:
    """HubSpot probabilities are 0–1; revloop keeps percent (0–100). Non-numbers pass through
    (coerce quarantines them); a value above 1 is already a percent."""
    trimmed = pc.utf8_trim_whitespace(text(a))
    numeric = pc.fill_null(pc.match_substring_regex(trimmed, r"^[-+]?(\d+(\.\d*)?|\.\d+)$"),
                           False)
    number = pc.if_else(numeric, trimmed, NULL_TEXT).cast(pa.float64())
    scaled = pc.if_else(pc.greater(number, 1.0), number, pc.round(pc.multiply(number, 100.0), 6))
    return pc.if_else(numeric, scaled.cast(pa.string()), text(a))


def first_id(a: pa.Array) -> pa.Array:
    """``123;456`` / ``[123, 456]`` / ``"123"`` → ``123`` (association columns)."""
    first = pc.replace_substring_regex(
        text(a), r"^[\s\[\]\"']*([^;,\s\[\]\"']*).*$", r"\1")
    return null_where_blank(first)


_CHANNELS = pa.array(list(CHANNELS), pa.string())


def channel(a: pa.Array) -> pa.Array:
    """After the source → channel map: a canonical channel name stays, anything else is
    ``other``; empty stays empty."""
    values = null_where_blank(a)
    snake = pc.replace_substring_regex(
        pc.replace_substring_regex(pc.utf8_lower(pc.utf8_trim_whitespace(values)),
                                   r"[^a-z0-9]+", "_"), r"^_+|_+$", "")
    known = pc.is_in(snake, value_set=_CHANNELS)
    return pc.if_else(known, snake, pc.if_else(pc.is_null(values), values, "other"))


def sales_channel(a: pa.Array) -> pa.Array:
    """After the engagement channel map: outbound_sales / inbound_sales, else ``sales``."""
    directed = pc.fill_null(pc.is_in(text(a), value_set=pa.array(
        ["outbound_sales", "inbound_sales"], pa.string())), False)
    return pc.if_else(directed, text(a), pa.scalar("sales", pa.string()))


def only(*allowed: str) -> Transform:
    """After a value map: keep ``allowed`` values, empty anything else."""
    value_set = pa.array(list(allowed), pa.string())

    def keep(a: pa.Array) -> pa.Array:
        values = text(a)
        return pc.if_else(pc.fill_null(pc.is_in(values, value_set=value_set), False), values,
                          NULL_TEXT)
    return keep


def lower(a: pa.Array) -> pa.Array:
    return pc.utf8_lower(pc.utf8_trim_whitespace(text(a)))
