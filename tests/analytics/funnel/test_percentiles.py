"""Exact percentiles on every engine equal NumPy's linear interpolation, to the last bit."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from revloop.analytics.funnel.percentiles import (
    pcol,
    percentile_table,
    reference_percentile,
    scaled,
)
from revloop.store import Store

QS = (1, 10, 25, 50, 75, 90, 99)


def test_percentiles_match_numpy_on_every_engine(backend: Store) -> None:
    rng = np.random.default_rng(7)
    groups, values = [], []
    for g, n in (("a", 1), ("b", 2), ("c", 7), ("d", 100), ("e", 1001)):
        groups += [g] * n
        values += list(rng.integers(0, 90 * 86400, n).astype(float))
    # ties and a null (left out)
    groups += ["c", "c", "c"]
    values += [values[10], values[10], None]
    backend.write_arrow("pct", pa.table({"g": groups, "v": pa.array(values, pa.float64())}))
    t = percentile_table(backend.table("pct"), ["g"], "v", QS)
    rows = {r["g"]: r for r in t.to_pyarrow().to_pylist()}
    for g in "abcde":
        xs = np.array([v for gg, v in zip(groups, values, strict=True)
                       if gg == g and v is not None])
        assert rows[g]["n"] == len(xs)
        assert rows[g]["total"] == xs.sum()
        for q in QS:
            got = scaled(rows[g][pcol(q)])
            assert got == pytest.approx(np.percentile(xs, q), rel=1e-12, abs=1e-9), (g, q)
            # and the whole-number arithmetic makes it exact
            lo = ((len(xs) - 1) * q) // 100
            m = ((len(xs) - 1) * q) % 100
            s = np.sort(xs)
            exact = (s[lo] * (100 - m) + (s[min(lo + 1, len(s) - 1)] * m if m else 0)) / 100
            assert got == exact


@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 57])
def test_reference_percentile_is_numpy_linear(n: int) -> None:
    xs = list(np.random.default_rng(n).normal(size=n))
    for q in (0, 10, 25, 50, 75, 90, 100):
        assert reference_percentile(xs, q) == pytest.approx(np.percentile(xs, q))
