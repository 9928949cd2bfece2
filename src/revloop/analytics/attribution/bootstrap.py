"""Bootstrap confidence intervals for any model, by resampling journeys.

A journey is the resampling unit. Journeys are pooled into *cells* — (path, converted) with the
value per conversion for converting cells, (path, not converted) for the rest — because
journeys in one cell are interchangeable for the model. Each replicate draws as many journeys as
the data hold from the cells (one multinomial draw of cell counts: the classical bootstrap,
vectorised), re-solves the model on those counts with the paths fixed, and records the credits.
Intervals are percentile intervals of the replicates; the standard error is their standard
deviation. Models whose credits are linear in the outcomes (the heuristics, Shapley) re-solve
with one sparse product; Markov re-solves its chain (one dense solve for order 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revloop.analytics.attribution.credits import AttributionModel, Prepared
from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.paths import (
    FloatArray,
    IntArray,
    Journeys,
    weighted_count,
)

#: Upper bound of cells × replicates drawn at once (memory of one multinomial block).
_BLOCK = 20_000_000


@dataclass(frozen=True, eq=False)
class Interval:
    """Bootstrap intervals of one model's credits, per channel."""

    model: str
    channels: tuple[str, ...]
    confidence: float
    replicates: int
    conversions_low: FloatArray
    conversions_high: FloatArray
    conversions_se: FloatArray
    value_low: FloatArray
    value_high: FloatArray
    value_se: FloatArray
    share_low: FloatArray
    share_high: FloatArray


@dataclass(frozen=True, eq=False)
class _Cells:
    row: IntArray  # a representative journey row of each cell
    multiplicity: FloatArray  # how many journeys the cell holds
    conversions: FloatArray  # per journey drawn from the cell
    nulls: FloatArray
    value: FloatArray


def _cells(prepared: Prepared) -> _Cells:
    j = prepared.journeys
    n = j.n_journeys
    key = prepared.row_key if prepared.row_key is not None else np.arange(n, dtype=np.int64)
    conv_rows = np.flatnonzero(j.conversions > 0)
    null_rows = np.flatnonzero(j.nulls > 0)
    unit_value = j.value[conv_rows] / j.conversions[conv_rows]
    # converting journeys pool by (path, value per conversion), the others by path
    conv_id = np.column_stack((key[conv_rows].astype(np.float64), unit_value))
    uc, first_c, inv_c = np.unique(conv_id, axis=0, return_index=True, return_inverse=True)
    mult_c = weighted_count(inv_c.reshape(-1), j.conversions[conv_rows], len(uc))
    un, first_n, inv_n = np.unique(key[null_rows], return_index=True, return_inverse=True)
    mult_n = weighted_count(inv_n.reshape(-1), j.nulls[null_rows], len(un))
    k_c, k_n = len(uc), len(un)
    return _Cells(
        row=np.concatenate((conv_rows[first_c], null_rows[first_n])),
        multiplicity=np.concatenate((mult_c, mult_n)),
        conversions=np.concatenate((np.ones(k_c), np.zeros(k_n))),
        nulls=np.concatenate((np.zeros(k_c), np.ones(k_n))),
        value=np.concatenate((uc[:, 1] if k_c else np.zeros(0), np.zeros(k_n))),
    )


def bootstrap(model: AttributionModel, journeys: Journeys, replicates: int = 200,
              confidence: float = 0.95, seed: int = 0) -> Interval:
    """Percentile intervals of ``model``'s credits over ``replicates`` resamples of journeys."""
    if replicates < 2:
        raise AttributionError("the bootstrap needs at least 2 replicates", code="bad_bootstrap")
    if not 0 < confidence < 1:
        raise AttributionError(f"confidence must be between 0 and 1, got {confidence}",
                               code="bad_bootstrap")
    prepared = model.prepare(journeys)
    cells = _cells(prepared)
    n_rows = prepared.journeys.n_journeys
    n_ch = len(journeys.channels)
    total = float(cells.multiplicity.sum())
    conv = np.zeros((replicates, n_ch))
    val = np.zeros((replicates, n_ch))
    share = np.zeros((replicates, n_ch))
    if total > 0 and len(cells.row):
        rng = np.random.default_rng(seed)
        draws = max(1, round(total))
        p = cells.multiplicity / cells.multiplicity.sum()
        block = max(1, _BLOCK // len(p))
        b = 0
        while b < replicates:
            size = min(block, replicates - b)
            counts = rng.multinomial(draws, p, size=size).astype(np.float64)
            for row_counts in counts:
                c_rows = weighted_count(cells.row, row_counts * cells.conversions, n_rows)
                n_rows_out = weighted_count(cells.row, row_counts * cells.nulls, n_rows)
                v_rows = weighted_count(cells.row, row_counts * cells.value, n_rows)
                conv[b], val[b] = prepared.credit(c_rows, n_rows_out, v_rows)
                tot = conv[b].sum()
                share[b] = conv[b] / tot if tot else 0.0
                b += 1
    lo, hi = 50 * (1 - confidence), 50 * (1 + confidence)
    return Interval(
        model=model.label, channels=journeys.channels, confidence=confidence,
        replicates=replicates,
        conversions_low=np.percentile(conv, lo, axis=0),
        conversions_high=np.percentile(conv, hi, axis=0),
        conversions_se=conv.std(axis=0, ddof=1),
        value_low=np.percentile(val, lo, axis=0),
        value_high=np.percentile(val, hi, axis=0),
        value_se=val.std(axis=0, ddof=1),
        share_low=np.percentile(share, lo, axis=0),
        share_high=np.percentile(share, hi, axis=0),
    )
