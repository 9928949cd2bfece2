"""Exact percentiles on the engine, identical on DuckDB, PostgreSQL and Spark.

Engines' own percentile functions disagree (exact vs approximate, different interpolation),
so percentiles are computed from order statistics: within each group the values are numbered
by ``row_number`` and the two neighbours of the wanted rank are combined.

Definition (Hyndman & Fan type 7, NumPy's and pandas' default): for ``n`` sorted values
``x[0] ≤ … ≤ x[n-1]`` and percentile ``q`` (0–100), ``h = (n-1)·q/100``,
``P = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])``.

Values must be whole numbers (durations in whole seconds). The engine computes
``100·P = (100−m)·x[lo] + m·x[lo+1]`` with ``lo = ((n−1)·q) div 100`` and
``m = ((n−1)·q) mod 100`` — integers only, so every engine returns the same double; the
division by 100 happens in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis

DEFAULT_PERCENTILES = (10, 25, 50, 75, 90)


def pcol(q: int) -> str:
    """Result column of percentile ``q`` (scaled by 100; see :func:`scaled`)."""
    return f"p{q}_x100"


def percentile_table(table: Any, groups: Sequence[str], value: str,
                     percentiles: Sequence[int] = DEFAULT_PERCENTILES) -> Any:
    """Per group of ``groups``: ``n``, ``total`` (sum of values) and ``p<q>_x100`` columns.

    Rows whose ``value`` is null are left out.
    """
    t = table.filter(table[value].notnull())
    x = t[value]
    ordered = ibis.window(group_by=[t[g] for g in groups], order_by=[x])
    whole = ibis.window(group_by=[t[g] for g in groups])
    t = t.mutate(_rn=ibis.row_number().over(ordered).cast("int64"),
                 _n=x.count().over(whole).cast("int64"))
    aggs: dict[str, Any] = {"n": t._n.max(), "total": t[value].sum()}
    for q in percentiles:
        h100 = (t._n - 1) * q
        lo = h100 // 100
        m = h100 % 100
        weighted = ibis.cases(
            (t._rn == lo, t[value] * (100 - m)),
            (t._rn == lo + 1, t[value] * m),
            else_=ibis.literal(0.0),
        )
        aggs[pcol(q)] = weighted.sum()
    return t.group_by(list(groups)).agg(**aggs)


def scaled(value: float | None, divisor: float = 1.0) -> float | None:
    """A ``p<q>_x100`` result in the value's unit divided by ``divisor`` (e.g. 86400)."""
    return None if value is None else float(value) / 100.0 / divisor


def reference_percentile(values: Sequence[float], q: float) -> float:
    """The same definition in plain Python (for checks and small in-memory data)."""
    xs = sorted(values)
    if not xs:
        raise ValueError("no values")
    h = (len(xs) - 1) * q / 100.0
    lo = int(h)
    frac = h - lo
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + frac * (xs[hi] - xs[lo])
