"""Custom attributes (JSON text columns): which keys a sample holds and what they look like.

Values are read on the engine with :func:`revloop.store.queries.json_text`; this module only
profiles a sample in Python to decide which attributes become features.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from revloop.store.queries import NUMBER_PATTERN


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
