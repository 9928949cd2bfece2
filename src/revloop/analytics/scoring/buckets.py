"""Buckets of 0–100 scores, buying stages and the 6QA flag (definitions in docs/scoring.md).

* Every model: **A** ≥ 90, **B** ≥ 70, **C** ≥ 40, **D** below — scores are percentiles of
  the training population, so A is the top 10%, B the next 20%, C the next 30%, D the rest.
* Account fit: **strong** ≥ ``fit_buckets.strong`` (70), **moderate** ≥
  ``fit_buckets.moderate`` (40), **weak** below.
* Buying stage from the calibrated in-market probability (the chance of opening an
  opportunity within the horizon, in percent) and recent activity: **Target** — no touch and
  no intent signal in the last ``activity_days`` (90); otherwise **Purchase** ≥ ``purchase``
  (50%), **Decision** ≥ ``decision`` (20%), **Consideration** ≥ ``consideration`` (5%),
  **Awareness** below. Probabilities rather than score percentiles, so that a company where
  few accounts buy does not see a fixed share of its accounts flagged.
* **6QA**: strong or moderate fit, at Decision or Purchase.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from revloop.analytics.scoring.rules import FitBuckets, StageThresholds

GRADES = (("A", 90.0), ("B", 70.0), ("C", 40.0), ("D", 0.0))
STAGES = ("Target", "Awareness", "Consideration", "Decision", "Purchase")


def grade(score: NDArray[np.float64]) -> NDArray[np.str_]:
    """A/B/C/D of 0–100 scores."""
    s = np.asarray(score, dtype=np.float64)
    out = np.full(len(s), "D", dtype="<U1")
    for name, low in reversed(GRADES[:-1]):
        out[s >= low] = name
    return out


def fit_bucket(score: NDArray[np.float64], buckets: FitBuckets) -> NDArray[np.str_]:
    """strong / moderate / weak of account fit scores."""
    s = np.asarray(score, dtype=np.float64)
    out = np.full(len(s), "weak", dtype="<U8")
    out[s >= buckets.moderate] = "moderate"
    out[s >= buckets.strong] = "strong"
    return out


def buying_stage(in_market_probability: NDArray[np.float64], active: NDArray[np.bool_],
                 thresholds: StageThresholds) -> NDArray[np.str_]:
    """Target / Awareness / Consideration / Decision / Purchase."""
    s = 100.0 * np.asarray(in_market_probability, dtype=np.float64)
    out = np.full(len(s), "Awareness", dtype="<U13")
    out[s >= thresholds.consideration] = "Consideration"
    out[s >= thresholds.decision] = "Decision"
    out[s >= thresholds.purchase] = "Purchase"
    out[~np.asarray(active, dtype=bool)] = "Target"
    return out


def is_6qa(fit: NDArray[np.str_], stage: NDArray[np.str_]) -> NDArray[np.bool_]:
    """Strong or moderate fit, at Decision or Purchase."""
    f = np.asarray(fit)
    st = np.asarray(stage)
    out: NDArray[np.bool_] = np.isin(f, ["strong", "moderate"]) & np.isin(
        st, ["Decision", "Purchase"])
    return out
