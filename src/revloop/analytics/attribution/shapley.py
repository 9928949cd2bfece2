"""Shapley-value attribution in the closed form of Zhao, Mahboobi & Bagheri (2018).

The game: the worth of a coalition S of channels is the conversions (or value) of the journeys
whose channel set lies inside S, v(S) = Σ_{T ⊆ S} R(T), with R(T) the conversions of journeys
whose channel set is exactly T. Its Shapley value reduces to

    φ_j = Σ_{T ∋ j} R(T) / |T|

— linear in the number of distinct journeys instead of exponential in the number of channels
(tests check it against the full 2ⁿ enumeration). The **ordered** variant credits (channel,
position) pairs: with every journey reduced to its channels in order of first appearance,
φ_j^i = Σ_{T : T_i = j} R(T) / |T|; summed over positions it gives back φ_j, and the table by
position shows where in journeys each channel earns its credit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from revloop.analytics.attribution.credits import Credits, WeightModel, credits_from_counts
from revloop.analytics.attribution.paths import (
    FloatArray,
    Journeys,
    unique_channels,
    weighted_count,
)


class Shapley(WeightModel):
    """Shapley values of channels (Zhao et al. 2018); ``ordered=True`` adds positions.

    Fitted: ``credits_``; with ``ordered``, ``positions_`` — conversions credited per channel
    (rows) and position of first appearance (columns, 1-based) — and ``value_positions_``.
    """

    name = "shapley"
    data_driven = True

    def __init__(self, ordered: bool = False) -> None:
        self.ordered = ordered

    @property
    def label(self) -> str:
        return "shapley_ordered" if self.ordered else self.name

    def _transform(self, journeys: Journeys) -> Journeys:
        return unique_channels(journeys)

    def _credit(self, journeys: Journeys) -> Credits:
        n_ch = len(journeys.channels)
        if self.ordered or n_ch > 62:
            return super()._credit(journeys)
        # each journey's channel set as a bitmask; R(T) summed per distinct set T, then
        # R(T)/|T| to each member — linear in the number of distinct sets (Zhao et al.)
        has = journeys.has_touches
        lut = np.left_shift(np.int64(1), np.arange(n_ch, dtype=np.int64))
        masks = np.bitwise_or.reduceat(lut[journeys.touches], journeys.offsets[:-1][has]) \
            if has.any() else np.zeros(0, dtype=np.int64)
        sets, inverse = np.unique(masks, return_inverse=True)
        member = np.unpackbits(sets.astype("<i8").view(np.uint8).reshape(-1, 8), axis=1,
                               bitorder="little")[:, :n_ch].astype(np.float64)
        size = member.sum(axis=1)
        inv = inverse.reshape(-1)
        conv = (weighted_count(inv, journeys.conversions[has], len(sets)) / size) @ member
        val = (weighted_count(inv, journeys.value[has], len(sets)) / size) @ member
        return credits_from_counts(journeys, conv, val, self.label,
                                   {"channel_sets": len(sets)})

    def touch_weights(self, journeys: Journeys) -> FloatArray:
        lengths = journeys.lengths
        return 1.0 / np.repeat(lengths, lengths).astype(np.float64)

    def _details(self, journeys: Journeys) -> dict[str, Any]:
        if not self.ordered or journeys.n_touches == 0:
            return {}
        w = self.touch_weights(journeys)
        jt = journeys.journey_of_touch
        pos = journeys.position
        width = int(pos.max()) + 1
        c = len(journeys.channels)
        cell = journeys.touches.astype(np.int64) * width + pos
        conv = np.bincount(cell, w * journeys.conversions[jt], minlength=c * width)
        val = np.bincount(cell, w * journeys.value[jt], minlength=c * width)
        self.positions_ = conv.reshape(c, width)
        self.value_positions_ = val.reshape(c, width)
        return {
            "positions": {ch: [float(x) for x in self.positions_[i]]
                          for i, ch in enumerate(journeys.channels)},
            "value_positions": {ch: [float(x) for x in self.value_positions_[i]]
                                for i, ch in enumerate(journeys.channels)},
        }
