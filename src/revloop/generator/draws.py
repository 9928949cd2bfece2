"""Vectorised random draws the simulation is made of (NumPy, no Python loop per row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from revloop.generator.config import DAY

# NumPy's dtype-level typing fights every mixed expression; the names still tell the reader
# what an array holds.
IntArray = npt.NDArray[Any]
FloatArray = npt.NDArray[Any]
BoolArray = npt.NDArray[Any]


def weights(values: Sequence[float]) -> FloatArray:
    """Probabilities proportional to ``values``."""
    w = np.asarray(values, dtype=np.float64)
    return w / w.sum()


def choice(rng: np.random.Generator, p: FloatArray, n: int) -> IntArray:
    """``n`` indices drawn with probabilities ``p`` (faster than ``rng.choice`` for big n)."""
    cum = np.cumsum(p)
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int64)


def grouped_choice(rng: np.random.Generator, group: IntArray, group_start: IntArray,
                   cum_weights: FloatArray) -> IntArray:
    """For each row, an index drawn within its group's slice of a weighted list.

    ``cum_weights`` is the running sum of the weights of all items, items of one group being
    contiguous from ``group_start[g]`` to ``group_start[g + 1]`` (exclusive).
    """
    lo = group_start[group]
    hi = group_start[group + 1]
    base = np.where(lo > 0, cum_weights[np.maximum(lo - 1, 0)], 0.0)
    top = cum_weights[hi - 1]
    target = base + rng.random(len(group)) * (top - base)
    idx = np.searchsorted(cum_weights, target, side="right")
    return np.clip(idx, lo, hi - 1).astype(np.int64)


def repeat_index(counts: IntArray) -> IntArray:
    """``[0]*counts[0] + [1]*counts[1] + …`` — the row each generated item belongs to."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def office_times(rng: np.random.Generator, start: IntArray, end: IntArray,
                 weekend_weight: float) -> IntArray:
    """Times uniform over ``[start, end)`` days, with weekends thinned and business hours.

    A Saturday or Sunday draw is kept with probability ``weekend_weight`` and otherwise moved
    to the nearest Friday or Monday inside the range; the time of day is centred on 13:00.
    """
    n = len(start)
    span = np.maximum(end - start, 1)
    t = start + (rng.random(n) * span).astype(np.int64)
    day = t // DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weekend = weekday >= 5
    move = weekend & (rng.random(n) >= weekend_weight)
    shift = np.where(weekday == 5, -1, 1)  # Saturday → Friday, Sunday → Monday
    day = np.where(move, day + shift, day)
    hour = np.clip(rng.normal(13.0, 3.2, n), 0.0, 23.99)
    t = day * DAY + (hour * 3600).astype(np.int64)
    return np.clip(t, start, np.maximum(end - 1, start))


def lognormal_mean_one(rng: np.random.Generator, sigma: float, n: int) -> FloatArray:
    """Log-normal factors with mean 1 (quality of a campaign, a piece of content, a person)."""
    return np.exp(rng.normal(-sigma * sigma / 2.0, sigma, n))


def first_in_group(group: IntArray, mask: BoolArray, n_groups: int) -> IntArray:
    """For rows sorted by ``group``, the first row index where ``mask`` holds, per group
    (``-1`` where none does)."""
    out = np.full(n_groups, -1, dtype=np.int64)
    rows = np.flatnonzero(mask)
    if len(rows):
        g = group[rows]
        first = np.r_[True, g[1:] != g[:-1]]
        out[g[first]] = rows[first]
    return out


def group_starts(sorted_group: IntArray) -> IntArray:
    """Row index where each run of equal values starts, for a sorted array."""
    if len(sorted_group) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]]).astype(np.int64)
