"""Custom attributes (JSON text columns) read inside Ibis expressions, on every engine.

``custom`` and ``properties`` are JSON objects stored as text. Ibis' JSON operators do not
compile on PostgreSQL and Spark (measured with Ibis 12), so values are read with a regular
expression that every engine runs the same way (RE2, PostgreSQL ARE, Java): the value of a
top-level key, quoted (escapes undone) or bare (numbers, true, false). Objects written by
revloop's importers are flat, so this reads them exactly; nested objects are not supported.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ibis

_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")
# A number as text (what a safe numeric cast accepts); portable regex syntax only.
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def regex_escape(text: str) -> str:
    """``text`` as a literal in a regex every engine accepts (only metacharacters escaped)."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


def _empty_to_null(value: Any) -> Any:
    return ibis.ifelse(value == "", ibis.null("string"), value)


def json_text_value(column: Any, key: str) -> Any:
    """The value of top-level ``key`` of a JSON-object text column, as text (NULL if absent).

    Quoted values come back unescaped (``\\"``, ``\\\\``, ``\\/``); numbers and booleans come
    back as written (``3.5``, ``true``); empty strings read as NULL.
    """
    variants = {json.dumps(key)[1:-1], json.dumps(key, ensure_ascii=False)[1:-1]}
    name = "|".join(regex_escape(v) for v in sorted(variants))
    prefix = r'(?:^|[{,])\s*"(?:' + name + r')"\s*:\s*'
    quoted = _empty_to_null(column.re_extract(prefix + r'"((?:[^"\\]|\\.)*)"', 1))
    bare = _empty_to_null(column.re_extract(prefix + r"([-+0-9.eE]+|true|false)", 1))
    value = ibis.coalesce(quoted, bare)
    # undo JSON escapes; \x01 keeps an escaped backslash apart from the escapes it precedes
    return (value.replace("\\\\", "\x01").replace('\\"', '"').replace("\\/", "/")
            .replace("\x01", "\\"))


def safe_float(text: Any) -> Any:
    """Text → float64, NULL where the text is not a number (no engine raises)."""
    return ibis.ifelse(text.re_search(NUMBER_PATTERN), text.cast("float64"),
                       ibis.null("float64"))


@dataclass(frozen=True)
class AttributeProfile:
    """What a sample says about one custom attribute."""

    key: str
    present: int  # rows with a non-empty value
    numeric: int  # of those, values that read as numbers
    distinct: int  # distinct values
    top_values: tuple[str, ...]  # most frequent values, most frequent first

    @property
    def is_numeric(self) -> bool:
        """Numbers in at least 95% of the rows that have a value."""
        return self.present > 0 and self.numeric >= 0.95 * self.present


def profile_attributes(texts: Iterable[str | None], top: int = 50) -> dict[str, AttributeProfile]:
    """Profile the keys of JSON-object texts (a sample of a ``custom`` column)."""
    import re

    number = re.compile(NUMBER_PATTERN)
    counts: dict[str, Counter[str]] = {}
    numeric: Counter[str] = Counter()
    for text in texts:
        if not text:
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        for key, raw in obj.items():
            if raw is None or isinstance(raw, dict | list):
                continue
            value = str(raw).lower() if isinstance(raw, bool) else str(raw)
            if value == "":
                continue
            counts.setdefault(key, Counter())[value] += 1
            if not isinstance(raw, bool) and number.match(value):
                numeric[key] += 1
    out = {}
    for key, c in counts.items():
        out[key] = AttributeProfile(
            key=key, present=sum(c.values()), numeric=numeric[key], distinct=len(c),
            top_values=tuple(v for v, _ in c.most_common(top)),
        )
    return out


def sample_custom(table: Any, column: str, order_key: str, limit: int = 20_000) -> list[str | None]:
    """Up to ``limit`` non-empty values of a JSON text column (deterministic: by ``order_key``)."""
    t = table.filter(table[column].notnull())
    rows = t.order_by(t[order_key]).limit(limit).select(t[column]).to_pyarrow()
    values: list[str | None] = rows.column(0).to_pylist()
    return values
