"""What every attribution model produces (credits per channel) and the base estimator classes.

Models are estimators the scikit-learn way: ``__init__`` stores parameters, ``fit(journeys)``
computes, and fitted attributes end in ``_`` (``credits_``, ``removal_effects_`` …).
Every model splits exactly the conversions and value of the journeys that have at least one
touch; journeys without touches are reported as unattributed, never silently dropped.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np

from revloop.analytics.attribution.paths import FloatArray, IntArray, Journeys, weighted_count


@dataclass(frozen=True, eq=False)
class Credits:
    """Credit per channel (group) for conversions and for value, with the totals they split."""

    model: str
    channels: tuple[str, ...]
    conversions: FloatArray
    value: FloatArray
    total_conversions: float
    total_value: float
    details: dict[str, Any] = field(default_factory=dict)

    def share(self, metric: str = "conversions") -> FloatArray:
        """Each channel's share of the total (0 when the total is 0)."""
        arr = self.conversions if metric == "conversions" else self.value
        total = self.total_conversions if metric == "conversions" else self.total_value
        return arr / total if total else np.zeros_like(arr)

    def reconciles(self, rel: float = 1e-9) -> bool:
        """The credits sum to the totals they split."""
        return (math.isclose(fsum(self.conversions), self.total_conversions, rel_tol=rel,
                             abs_tol=1e-9)
                and math.isclose(fsum(self.value), self.total_value, rel_tol=rel, abs_tol=1e-9))

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{channel: {"conversions": …, "value": …}}``."""
        return {c: {"conversions": float(self.conversions[i]), "value": float(self.value[i])}
                for i, c in enumerate(self.channels)}


def fsum(values: FloatArray) -> float:
    """Exactly rounded sum of an array (``math.fsum`` over a list is ~10× faster than over
    NumPy scalars)."""
    return math.fsum(np.asarray(values, dtype=np.float64).tolist())


def reconcile(credits: FloatArray, total: float) -> FloatArray:
    """``credits`` nudged so that they sum to ``total`` to the last bit.

    Splits are computed in floating point; the rounding residue (a few ulps) goes to the largest
    credit so that a report's columns add up exactly to its total.
    """
    out = np.array(credits, dtype=np.float64)
    if len(out) == 0:
        return out
    residue = total - fsum(out)
    if residue:
        out[int(np.argmax(np.abs(out)))] += residue
    return out


def credits_from_counts(journeys: Journeys, conversions: FloatArray, value: FloatArray,
                        model: str, details: dict[str, Any] | None = None) -> Credits:
    """Credits from per-channel sums, reconciled to the totals of journeys with touches."""
    has = journeys.has_touches
    total_c = fsum(journeys.conversions[has])
    total_v = fsum(journeys.value[has])
    return Credits(model, journeys.channels, reconcile(conversions, total_c),
                   reconcile(value, total_v), total_c, total_v, details or {})


def split_by_weights(journeys: Journeys, weights: FloatArray, model: str,
                     details: dict[str, Any] | None = None) -> Credits:
    """Credits from per-touch weights that sum to 1 within each journey that has touches."""
    jt = journeys.journey_of_touch
    c = len(journeys.channels)
    conv = weighted_count(journeys.touches, weights * journeys.conversions[jt], c)
    val = weighted_count(journeys.touches, weights * journeys.value[jt], c)
    has = journeys.has_touches
    total_c = fsum(journeys.conversions[has])
    total_v = fsum(journeys.value[has])
    return Credits(model, journeys.channels, reconcile(conv, total_c), reconcile(val, total_v),
                   total_c, total_v, details or {})


class AttributionModel(ABC):
    """An attribution model: ``fit(journeys)`` sets ``credits_``."""

    #: The model's name in reports, the CLI and the JSON output.
    name: ClassVar[str]
    #: Learns from converting and non-converting journeys (bootstrap intervals make sense).
    data_driven: ClassVar[bool] = False
    #: Reads per-touch ages (time decay) or milestone flags (W-shaped …).
    needs_touch_data: ClassVar[bool] = False

    credits_: Credits

    @property
    def label(self) -> str:
        """The name shown in reports (parameters included when they matter)."""
        return self.name

    def fit(self, journeys: Journeys) -> Self:
        """Compute the credits of ``journeys``."""
        self.credits_ = self._credit(journeys)
        return self

    @abstractmethod
    def _credit(self, journeys: Journeys) -> Credits:
        """The credits of ``journeys``."""

    def prepare(self, journeys: Journeys) -> Prepared:
        """Precompute what does not change when only the outcomes change (bootstrap)."""
        return _Refit(self, journeys)


class Prepared(ABC):
    """A model bound to fixed paths; ``credit`` re-solves for other outcomes quickly."""

    journeys: Journeys
    #: Rows with the same key are interchangeable for ``credit`` (same distinct path): the
    #: bootstrap may pool their outcomes. None: every row is its own.
    row_key: IntArray | None = None

    @abstractmethod
    def credit(self, conversions: FloatArray, nulls: FloatArray,
               value: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Conversion and value credits per channel for these outcomes of ``journeys``."""


class _Refit(Prepared):
    """Fallback: refit the model on the reweighted journeys."""

    def __init__(self, model: AttributionModel, journeys: Journeys) -> None:
        self.model = model
        self.journeys = journeys

    def credit(self, conversions: FloatArray, nulls: FloatArray,
               value: FloatArray) -> tuple[FloatArray, FloatArray]:
        c = self.model._credit(self.journeys.with_outcomes(conversions, nulls, value))
        return c.conversions, c.value


class WeightModel(AttributionModel):
    """A model that gives every touch a fixed share of its journey (all heuristics, Shapley).

    Credits are linear in the journeys' outcomes, so a bootstrap replicate is one sparse
    matrix product.
    """

    @abstractmethod
    def touch_weights(self, journeys: Journeys) -> FloatArray:
        """Per touch: its share of the journey (shares sum to 1 in every journey with touches)."""

    def _transform(self, journeys: Journeys) -> Journeys:
        """The journeys the weights are computed on (Shapley reduces them to channel sets)."""
        return journeys

    def _credit(self, journeys: Journeys) -> Credits:
        j = self._transform(journeys)
        return split_by_weights(j, self.touch_weights(j), self.label, self._details(j))

    def _details(self, journeys: Journeys) -> dict[str, Any]:
        return {}

    def prepare(self, journeys: Journeys) -> Prepared:
        return _WeightMatrix(self, journeys)


class _WeightMatrix(Prepared):
    """The journeys × channels matrix of shares; credits = outcomes @ matrix."""

    def __init__(self, model: WeightModel, journeys: Journeys) -> None:
        self.journeys = journeys
        from scipy import sparse

        j = model._transform(journeys)
        w = model.touch_weights(j)
        self.matrix = sparse.csr_matrix(
            (w, (j.journey_of_touch, j.touches.astype(np.int64))),
            shape=(j.n_journeys, len(j.channels)),
        )
        self.has = j.has_touches

    def credit(self, conversions: FloatArray, nulls: FloatArray,
               value: FloatArray) -> tuple[FloatArray, FloatArray]:
        conv = self.matrix.T @ conversions
        val = self.matrix.T @ value
        return (reconcile(np.asarray(conv), fsum(conversions[self.has])),
                reconcile(np.asarray(val), fsum(value[self.has])))
