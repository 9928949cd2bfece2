"""Journeys in memory: every journey's touches in time order, as flat NumPy arrays.

A :class:`Journeys` holds ``n`` journeys and ``m`` touches in CSR form: the touches of journey
``j`` are ``touches[offsets[j]:offsets[j + 1]]`` (codes into ``channels``, the names of the
groups being credited: channels, campaigns, content or a property). Each journey carries its
outcome: ``conversions`` and ``nulls`` (how many journeys of this path converted and how many
did not — 0/1 for one journey, counts for an aggregated path file) and ``value`` (the total value
of its conversions). Per touch, optionally: ``ages`` (days from the touch to the journey's end,
for time decay), ``flags`` (a bit per milestone — the touch that led to lead creation,
opportunity creation, …) and ``direct`` (the touch came through a direct channel).

Every transform here is vectorised over all journeys at once; nothing loops per journey.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
CodeArray = NDArray[np.int32]
FlagArray = NDArray[np.uint32]
BoolArray = NDArray[np.bool_]

#: Milestones the journey builders know (bit order is per Journeys, see ``milestones``).
LEAD_CREATION = "lead_creation"
OPPORTUNITY_CREATION = "opportunity_creation"
CLOSED_WON = "closed_won"
#: Positional milestones every journey has (never stored as flags).
FIRST = "first"
LAST = "last"


@dataclass(frozen=True, eq=False)
class Journeys:
    """Journeys as flat arrays (see the module docstring)."""

    channels: tuple[str, ...]
    offsets: IntArray
    touches: CodeArray
    conversions: FloatArray
    nulls: FloatArray
    value: FloatArray
    ages: FloatArray | None = None
    flags: FlagArray | None = None
    milestones: tuple[str, ...] = ()
    direct: BoolArray | None = None

    def __post_init__(self) -> None:
        n = len(self.offsets) - 1
        m = len(self.touches)
        if n < 0 or self.offsets[0] != 0 or self.offsets[-1] != m:
            raise ValueError("offsets must start at 0 and end at the number of touches")
        if np.any(np.diff(self.offsets) < 0):
            raise ValueError("offsets must not decrease")
        for name in ("conversions", "nulls", "value"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have one entry per journey")
        for name in ("ages", "flags", "direct"):
            arr = getattr(self, name)
            if arr is not None and len(arr) != m:
                raise ValueError(f"{name} must have one entry per touch")
        if len(self.milestones) > 32:
            raise ValueError("at most 32 milestones")
        if m and (self.touches.min() < 0 or self.touches.max() >= len(self.channels)):
            raise ValueError("touch codes must index channels")

    # -- shape ------------------------------------------------------------------------------
    @property
    def n_journeys(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_touches(self) -> int:
        return len(self.touches)

    # derived arrays are cached: several models read them from the same journeys
    @cached_property
    def lengths(self) -> IntArray:
        """Touches per journey."""
        return np.diff(self.offsets)

    @cached_property
    def journey_of_touch(self) -> IntArray:
        """The journey index of every touch."""
        return np.repeat(np.arange(self.n_journeys, dtype=np.int64), self.lengths)

    @cached_property
    def position(self) -> IntArray:
        """The 0-based position of every touch within its journey."""
        return np.arange(self.n_touches, dtype=np.int64) - np.repeat(self.offsets[:-1],
                                                                     self.lengths)

    @cached_property
    def has_touches(self) -> BoolArray:
        """Journeys with at least one touch (the ones a model can credit)."""
        return self.lengths > 0

    def milestone_bit(self, name: str) -> int | None:
        """The flag bit of milestone ``name``, or None when these journeys do not carry it."""
        return self.milestones.index(name) if name in self.milestones else None

    def is_direct(self, direct_channels: Sequence[str]) -> BoolArray:
        """Per touch: it came through a direct channel (stored flags, else by channel name)."""
        if self.direct is not None:
            return self.direct
        codes = [i for i, c in enumerate(self.channels) if c in set(direct_channels)]
        return np.isin(self.touches, np.asarray(codes, dtype=np.int32))

    # -- totals -----------------------------------------------------------------------------
    def totals(self) -> dict[str, float]:
        """Conversions and value in total, and the part on journeys without any touch."""
        empty = ~self.has_touches
        return {
            "journeys": float(self.conversions.sum() + self.nulls.sum()),
            "conversions": float(self.conversions.sum()),
            "value": float(self.value.sum()),
            "nulls": float(self.nulls.sum()),
            "unattributed_conversions": float(self.conversions[empty].sum()),
            "unattributed_value": float(self.value[empty].sum()),
        }

    # -- rewriting ----------------------------------------------------------------------------
    def with_outcomes(self, conversions: FloatArray, nulls: FloatArray,
                      value: FloatArray) -> Journeys:
        """The same paths with other outcomes (bootstrap replicates reuse the paths)."""
        return replace(self, conversions=conversions, nulls=nulls, value=value)

    def keep_touches(self, keep: BoolArray) -> Journeys:
        """Only the touches where ``keep`` is true (journeys keep their outcomes)."""
        cs = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        return replace(
            self,
            offsets=cs[self.offsets],
            touches=self.touches[keep],
            ages=None if self.ages is None else self.ages[keep],
            flags=None if self.flags is None else self.flags[keep],
            direct=None if self.direct is None else self.direct[keep],
        )

    def select(self, rows: IntArray | BoolArray) -> Journeys:
        """A subset of the journeys (by index or mask), in the given order."""
        idx = np.flatnonzero(rows) if rows.dtype == np.bool_ else np.asarray(rows, np.int64)
        lengths = self.lengths[idx]
        starts = self.offsets[idx]
        gather = _ranges(starts, lengths)
        return replace(
            self,
            offsets=np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))),
            touches=self.touches[gather],
            conversions=self.conversions[idx],
            nulls=self.nulls[idx],
            value=self.value[idx],
            ages=None if self.ages is None else self.ages[gather],
            flags=None if self.flags is None else self.flags[gather],
            direct=None if self.direct is None else self.direct[gather],
        )


def weighted_count(index: IntArray | CodeArray, weights: FloatArray, size: int) -> FloatArray:
    """``np.bincount`` with weights, typed as the float array it returns."""
    out: FloatArray = np.bincount(index, weights, minlength=size).astype(np.float64, copy=False)
    return out


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenation of ``arange(s, s + l)`` for every (s, l), without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    base = np.repeat(starts - (ends - lengths), lengths)
    return base + np.arange(total, dtype=np.int64)


def from_sequences(
    paths: Sequence[Sequence[str]],
    conversions: Sequence[float],
    nulls: Sequence[float] | None = None,
    value: Sequence[float] | None = None,
    *,
    ages: Sequence[Sequence[float]] | None = None,
    milestones: Sequence[Sequence[Sequence[str]]] | None = None,
    channels: Sequence[str] | None = None,
) -> Journeys:
    """Journeys from Python lists (tests, small data): one channel list per journey.

    ``milestones`` gives, per journey and touch, the milestone names that touch holds
    (e.g. ``[["lead_creation"], []]``). ``channels`` fixes the vocabulary order (default:
    sorted names).
    """
    names = tuple(channels) if channels is not None else tuple(sorted({c for p in paths
                                                                        for c in p}))
    code = {c: i for i, c in enumerate(names)}
    lengths = np.asarray([len(p) for p in paths], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    touches = np.asarray([code[c] for p in paths for c in p], dtype=np.int32)
    n = len(paths)
    flags = None
    ms: tuple[str, ...] = ()
    if milestones is not None:
        ms = tuple(sorted({name for per in milestones for touch in per for name in touch}))
        bits = {name: 1 << i for i, name in enumerate(ms)}
        flags = np.asarray([sum(bits[x] for x in touch) for per in milestones for touch in per],
                           dtype=np.uint32)
    return Journeys(
        channels=names,
        offsets=offsets,
        touches=touches,
        conversions=np.asarray(conversions, dtype=np.float64),
        nulls=np.zeros(n) if nulls is None else np.asarray(nulls, dtype=np.float64),
        value=np.zeros(n) if value is None else np.asarray(value, dtype=np.float64),
        ages=None if ages is None else np.asarray([a for per in ages for a in per], np.float64),
        flags=flags,
        milestones=ms,
    )


def to_sequences(journeys: Journeys) -> list[list[str]]:
    """The channel names of every journey (for small data and tests)."""
    names = np.asarray(journeys.channels, dtype=object)
    return [list(names[journeys.touches[a:b]]) for a, b in
            zip(journeys.offsets[:-1], journeys.offsets[1:], strict=True)]


def collapse_repeats(journeys: Journeys) -> Journeys:
    """Consecutive touches of the same channel become one touch.

    The merged touch holds the milestones of every touch of the run and the age of the last one
    (the most recent interaction with that channel).
    """
    t = journeys.touches
    if len(t) == 0:
        return journeys
    starts = np.zeros(len(t), dtype=np.bool_)
    starts[journeys.offsets[:-1][journeys.has_touches]] = True
    starts[1:] |= t[1:] != t[:-1]
    run_start = np.flatnonzero(starts)
    run_end = np.concatenate((run_start[1:], [len(t)])) - 1
    flags = None
    if journeys.flags is not None:
        flags = np.bitwise_or.reduceat(journeys.flags, run_start).astype(np.uint32)
    direct = None
    if journeys.direct is not None:
        # a run is direct only if all of it is: a non-direct touch in it still counts
        direct = np.logical_and.reduceat(journeys.direct, run_start)
    cs = np.concatenate(([0], np.cumsum(starts, dtype=np.int64)))
    return replace(
        journeys,
        offsets=cs[journeys.offsets],
        touches=t[run_start],
        ages=None if journeys.ages is None else journeys.ages[run_end],
        flags=flags,
        direct=direct,
    )


def unique_channels(journeys: Journeys) -> Journeys:
    """Each channel once per journey, at its first appearance.

    The kept touch holds the milestones of every touch of that channel in the journey and the
    age of its first appearance.
    """
    t = journeys.touches
    if len(t) == 0:
        return journeys
    c = len(journeys.channels)
    key = journeys.journey_of_touch * c + t
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    keep_idx = first[order]
    flags = None
    if journeys.flags is not None:
        merged = np.zeros(len(first), dtype=np.uint32)
        np.bitwise_or.at(merged, inverse, journeys.flags)
        flags = merged[order]
    direct = None
    if journeys.direct is not None:
        d = np.ones(len(first), dtype=np.bool_)
        np.logical_and.at(d, inverse, journeys.direct)
        direct = d[order]
    keep = np.zeros(len(t), dtype=np.bool_)
    keep[keep_idx] = True
    cs = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    return replace(
        journeys,
        offsets=cs[journeys.offsets],
        touches=t[keep_idx],
        ages=None if journeys.ages is None else journeys.ages[keep_idx],
        flags=flags,
        direct=direct,
    )


def drop_channels(journeys: Journeys, names: Sequence[str]) -> Journeys:
    """Remove every touch of the named channels (journeys keep their outcomes)."""
    codes = [i for i, c in enumerate(journeys.channels) if c in set(names)]
    if not codes:
        return journeys
    return journeys.keep_touches(~np.isin(journeys.touches, np.asarray(codes, np.int32)))


def distinct_paths(journeys: Journeys) -> tuple[Journeys, IntArray]:
    """Journeys with the same channel sequence merged (outcomes summed).

    Returns the distinct paths (without per-touch ages, flags or direct marks, which differ
    between merged journeys) and, per input journey, the index of its distinct path. Exact: the
    paths of each length are compared as rows of a matrix, no hashing.
    """
    lengths = journeys.lengths
    n = journeys.n_journeys
    inverse = np.empty(n, dtype=np.int64)
    pieces: list[tuple[int, CodeArray]] = []  # (length, unique rows flattened)
    next_id = 0
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        if length == 0:
            pieces.append((0, np.zeros(0, np.int32)))
            inverse[rows] = next_id
            next_id += 1
            continue
        idx = journeys.offsets[rows][:, None] + np.arange(length)
        mat = journeys.touches[idx]
        uniq, inv = np.unique(mat, axis=0, return_inverse=True)
        inverse[rows] = next_id + inv.reshape(-1)
        pieces.append((int(length), uniq.reshape(-1).astype(np.int32)))
        next_id += len(uniq)
    counts: list[int] = []
    for length, flat in pieces:
        counts.extend([length] * (len(flat) // length if length else 1))
    offsets = np.concatenate(([0], np.cumsum(np.asarray(counts, np.int64)))).astype(np.int64)
    touches = (np.concatenate([flat for _, flat in pieces]) if pieces
               else np.zeros(0, np.int32)).astype(np.int32)
    k = next_id
    out = Journeys(
        channels=journeys.channels,
        offsets=offsets,
        touches=touches,
        conversions=weighted_count(inverse, journeys.conversions, k),
        nulls=weighted_count(inverse, journeys.nulls, k),
        value=weighted_count(inverse, journeys.value, k),
    )
    return out, inverse


def path_strings(journeys: Journeys, sep: str = ">") -> list[str]:
    """Every journey's path as one string (export to the aggregated paths format)."""
    return [sep.join(p) for p in to_sequences(journeys)]
