"""Rule-based models: first, last, last non-direct, linear, time decay and milestone weights.

Every model gives each touch a share of its journey; shares sum to 1 in each journey with
touches, so credits sum exactly to the conversions (and value) they split.

Milestone models (U-shaped, W-shaped, full path, custom) give named touches a fixed weight and
share the ``rest`` weight equally among the other touches. A touch holding several milestones
gets all their weights. **A missing milestone** (no touch led to it, or the data do not say
which did) **gives its weight to the present ones in proportion to their weights**; so does the
``rest`` weight when every touch holds a milestone. Shares are therefore the weights of the
present holders, rescaled to sum to 1 (docs/attribution.md works examples).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from revloop.analytics.attribution.credits import Credits, WeightModel, credits_from_counts
from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.paths import (
    CLOSED_WON,
    FIRST,
    LAST,
    LEAD_CREATION,
    OPPORTUNITY_CREATION,
    BoolArray,
    FloatArray,
    IntArray,
    Journeys,
    weighted_count,
)


def _first_mask(journeys: Journeys) -> BoolArray:
    mask = np.zeros(journeys.n_touches, dtype=np.bool_)
    mask[journeys.offsets[:-1][journeys.has_touches]] = True
    return mask


def _last_mask(journeys: Journeys) -> BoolArray:
    mask = np.zeros(journeys.n_touches, dtype=np.bool_)
    mask[journeys.offsets[1:][journeys.has_touches] - 1] = True
    return mask


def _single_touch(journeys: Journeys, index: IntArray, model: str) -> Credits:
    """Credits when each journey's whole outcome goes to one touch (``index``, per journey
    with touches)."""
    has = journeys.has_touches
    codes = journeys.touches[index]
    c = len(journeys.channels)
    return credits_from_counts(journeys, weighted_count(codes, journeys.conversions[has], c),
                               weighted_count(codes, journeys.value[has], c), model)


class FirstTouch(WeightModel):
    """All credit to the first touch of the journey (what *sourced* the conversion)."""

    name = "first_touch"

    def touch_weights(self, journeys: Journeys) -> FloatArray:
        return _first_mask(journeys).astype(np.float64)

    def _credit(self, journeys: Journeys) -> Credits:
        return _single_touch(journeys, journeys.offsets[:-1][journeys.has_touches], self.label)


class LastTouch(WeightModel):
    """All credit to the last touch before the conversion."""

    name = "last_touch"

    def touch_weights(self, journeys: Journeys) -> FloatArray:
        return _last_mask(journeys).astype(np.float64)

    def _credit(self, journeys: Journeys) -> Credits:
        return _single_touch(journeys, journeys.offsets[1:][journeys.has_touches] - 1,
                             self.label)


class LastNonDirect(WeightModel):
    """All credit to the last touch that did not come through a direct channel.

    A journey made only of direct touches credits its last (direct) touch.
    """

    name = "last_non_direct"

    def __init__(self, direct_channels: Sequence[str] = ("direct",)) -> None:
        self.direct_channels = tuple(direct_channels)

    def touch_weights(self, journeys: Journeys) -> FloatArray:
        m = journeys.n_touches
        w = np.zeros(m)
        if m == 0:
            return w
        nondirect = ~journeys.is_direct(self.direct_channels)
        has = journeys.has_touches
        starts = journeys.offsets[:-1][has]
        pos = np.where(nondirect, np.arange(m), -1)
        last_nd = np.maximum.reduceat(pos, starts)
        last = journeys.offsets[1:][has] - 1
        # reduceat over a journey with no non-direct touch yields -1 or an index before it
        chosen = np.where(last_nd >= starts, last_nd, last)
        w[chosen] = 1.0
        return w


class Linear(WeightModel):
    """Equal credit to every touch of the journey."""

    name = "linear"

    def touch_weights(self, journeys: Journeys) -> FloatArray:
        lengths = journeys.lengths
        return 1.0 / np.repeat(lengths, lengths).astype(np.float64)

    def _credit(self, journeys: Journeys) -> Credits:
        has = journeys.has_touches
        lengths = journeys.lengths[has]
        c = len(journeys.channels)
        conv = weighted_count(journeys.touches,
                              np.repeat(journeys.conversions[has] / lengths, lengths), c)
        val = weighted_count(journeys.touches, np.repeat(journeys.value[has] / lengths, lengths),
                             c)
        return credits_from_counts(journeys, conv, val, self.label)


class TimeDecay(WeightModel):
    """Credit halves every ``half_life`` before the conversion: w ∝ 2^(−age / half_life).

    ``unit="days"`` uses each touch's age in days (journeys from the store carry it);
    ``unit="touches"`` counts touches back from the last one (aggregated path files, which
    have no timestamps).
    """

    name = "time_decay"
    needs_touch_data = True

    def __init__(self, half_life: float = 7.0,
                 unit: Literal["days", "touches"] = "days") -> None:
        self.half_life = half_life
        self.unit = unit

    @property
    def label(self) -> str:
        return self.name

    def touch_weights(self, journeys: Journeys) -> FloatArray:
        if not self.half_life > 0:
            raise AttributionError(f"time decay half-life must be positive, got {self.half_life}")
        if self.unit == "touches":
            age = (np.repeat(journeys.lengths, journeys.lengths) - 1
                   - journeys.position).astype(np.float64)
        elif journeys.ages is None:
            raise AttributionError(
                "time decay in days needs touch timestamps, which these journeys do not have "
                "(an aggregated paths file); use a half-life in touches (--half-life-unit "
                "touches)", code="needs_timestamps")
        else:
            age = journeys.ages
        if len(age) == 0:
            return np.zeros(0)
        jt = journeys.journey_of_touch
        has = journeys.has_touches
        # relative to the most recent touch of each journey, so long journeys never underflow
        youngest = np.full(journeys.n_journeys, np.inf)
        youngest[has] = np.minimum.reduceat(age, journeys.offsets[:-1][has])
        raw: FloatArray = np.exp2(-(age - youngest[jt]) / self.half_life)
        sums = weighted_count(jt, raw, journeys.n_journeys)
        out: FloatArray = raw / sums[jt]
        return out


class MilestoneWeights(WeightModel):
    """Fixed weights on named touches and one shared weight for the rest.

    ``weights`` maps milestones to weights: ``first`` and ``last`` (positional) or any milestone
    the journeys carry as touch flags (``lead_creation``, ``opportunity_creation``,
    ``closed_won``, a stage name …). ``rest`` is shared equally by the touches holding none of
    the listed milestones. Weights need not sum to 1: shares are weights over the sum of the
    present ones (the missing-milestone rule of the module docstring). A journey where no
    listed weight applies (all missing, rest 0) is split equally between its touches.
    """

    name = "custom"
    needs_touch_data = True

    def __init__(self, weights: Mapping[str, float], rest: float = 0.0,
                 name: str | None = None) -> None:
        self.weights = dict(weights)
        self.rest = rest
        self.model_name = name

    @property
    def label(self) -> str:
        return self.model_name or self.name

    def _validate(self) -> None:
        if not self.weights:
            raise AttributionError("milestone weights need at least one milestone")
        bad = {k: v for k, v in self.weights.items() if not v >= 0}
        if bad or not self.rest >= 0:
            raise AttributionError(
                f"milestone weights must be non-negative, got {bad or self.rest}")

    def _holder_mask(self, journeys: Journeys, milestone: str) -> BoolArray:
        if milestone == FIRST:
            return _first_mask(journeys)
        if milestone == LAST:
            return _last_mask(journeys)
        bit = journeys.milestone_bit(milestone)
        if bit is None or journeys.flags is None:
            return np.zeros(journeys.n_touches, dtype=np.bool_)
        marked: BoolArray = (journeys.flags & np.uint32(1 << bit)) != 0
        return marked

    def touch_weights(self, journeys: Journeys) -> FloatArray:
        self._validate()
        n, m = journeys.n_journeys, journeys.n_touches
        jt = journeys.journey_of_touch
        raw = np.zeros(m)
        present_weight = np.zeros(n)
        holder = np.zeros(m, dtype=np.bool_)
        for milestone, weight in self.weights.items():
            mask = self._holder_mask(journeys, milestone)
            count = np.bincount(jt[mask], minlength=n).astype(np.float64)
            present = count > 0
            present_weight += weight * present
            # several touches marked with one milestone share its weight
            raw[mask] += weight / count[jt[mask]]
            holder |= mask
        rest = ~holder
        rest_count = np.bincount(jt[rest], minlength=n).astype(np.float64)
        if self.rest:
            present_weight += self.rest * (rest_count > 0)
            raw[rest] += self.rest / rest_count[jt[rest]]
        total = present_weight[jt]
        lengths = journeys.lengths.astype(np.float64)
        equal = 1.0 / lengths[jt]
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.where(total > 0, raw / total, equal)
        return out

    def _details(self, journeys: Journeys) -> dict[str, Any]:
        """How many converting journeys lack each flagged milestone (their share moved)."""
        converting = journeys.has_touches & (journeys.conversions > 0)
        jt = journeys.journey_of_touch
        missing: dict[str, float] = {}
        for milestone in self.weights:
            if milestone in (FIRST, LAST):
                continue
            mask = self._holder_mask(journeys, milestone)
            has = np.zeros(journeys.n_journeys, dtype=np.bool_)
            has[jt[mask]] = True
            missing[milestone] = float(journeys.conversions[converting & ~has].sum())
        return {"weights": dict(self.weights), "rest": self.rest,
                "conversions_missing_milestone": missing}


class UShaped(MilestoneWeights):
    """Position-based: 40 % first touch, 40 % last touch, 20 % shared by the touches between."""

    name = "u_shaped"
    needs_touch_data = False
    DEFAULT: ClassVar[dict[str, float]] = {FIRST: 0.4, LAST: 0.4}

    def __init__(self, first: float = 0.4, last: float = 0.4, middle: float = 0.2) -> None:
        super().__init__({FIRST: first, LAST: last}, rest=middle, name=self.name)


class WShaped(MilestoneWeights):
    """30 % each on first touch, lead creation and opportunity creation; 10 % for the rest."""

    name = "w_shaped"

    def __init__(self, first: float = 0.3, lead_creation: float = 0.3,
                 opportunity_creation: float = 0.3, rest: float = 0.1) -> None:
        super().__init__({FIRST: first, LEAD_CREATION: lead_creation,
                          OPPORTUNITY_CREATION: opportunity_creation}, rest=rest, name=self.name)


class FullPath(MilestoneWeights):
    """22.5 % each on first touch, lead creation, opportunity creation and closed won; 10 %
    shared by the rest."""

    name = "full_path"

    def __init__(self, first: float = 0.225, lead_creation: float = 0.225,
                 opportunity_creation: float = 0.225, closed_won: float = 0.225,
                 rest: float = 0.1) -> None:
        super().__init__({FIRST: first, LEAD_CREATION: lead_creation,
                          OPPORTUNITY_CREATION: opportunity_creation, CLOSED_WON: closed_won},
                         rest=rest, name=self.name)


def parse_weights(text: str) -> tuple[dict[str, float], float]:
    """``"first=0.3,lead_creation=0.3,opportunity_creation=0.3,rest=0.1"`` → weights, rest."""
    weights: dict[str, float] = {}
    rest = 0.0
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, raw = part.partition("=")
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if not sep or not name.strip() or not number >= 0:
            raise AttributionError(
                f"custom weights: {part!r} is not name=weight with a non-negative number "
                "(e.g. first=0.3,lead_creation=0.3,opportunity_creation=0.3,rest=0.1)",
                code="bad_weights")
        if name.strip() == "rest":
            rest = number
        else:
            weights[name.strip()] = number
    if not weights:
        raise AttributionError("custom weights name no milestone (e.g. first=0.5,last=0.5)",
                               code="bad_weights")
    return weights, rest
