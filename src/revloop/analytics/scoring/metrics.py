"""Evaluation metrics in NumPy: AUC, PR-AUC, top-decile lift, ECE, Brier, reliability bins.

Definitions (also in docs/scoring.md):

* **AUC** — probability that a random positive scores above a random negative (ties count
  half): the Mann–Whitney U statistic over n₊·n₋.
* **PR-AUC** — average precision: Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the distinct score thresholds, from
  the highest down (the step-wise area, no interpolation).
* **Lift in the top decile** — the positive rate among the ⌈n/10⌉ highest scores over the
  overall positive rate; records tied at the cut share the remaining places (the expected
  value under random tie-breaking).
* **ECE** — expected calibration error over 10 equal-width probability bins [0, 0.1), …,
  [0.9, 1.0]: Σ_b (n_b / n)·|mean outcome_b − mean probability_b|.
* **Brier** — mean squared difference between probability and outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

ECE_BINS = 10


def _arrays(y: ArrayLike, p: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    yt = np.asarray(y, dtype=np.float64).ravel()
    ps = np.asarray(p, dtype=np.float64).ravel()
    if yt.shape != ps.shape:
        raise ValueError(f"{len(yt)} outcomes but {len(ps)} scores")
    return yt, ps


def auc(y: ArrayLike, score: ArrayLike) -> float:
    """ROC AUC (NaN when only one class is present)."""
    yt, s = _arrays(y, score)
    pos = yt == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # average ranks handle ties (a tie counts half)
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0  # 1-based average rank of each tie block
    ranks[order] = np.repeat(avg, counts)
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def average_precision(y: ArrayLike, score: ArrayLike) -> float:
    """PR-AUC as average precision (NaN without positives)."""
    yt, s = _arrays(y, score)
    n_pos = yt.sum()
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    ys, ss = yt[order], s[order]
    # one point per distinct threshold: the last index of each tie block
    last = np.r_[np.flatnonzero(np.diff(ss) != 0), len(ss) - 1]
    tp = np.cumsum(ys)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / n_pos
    prev = np.r_[0.0, recall[:-1]]
    return float(np.sum((recall - prev) * precision))


def top_decile_lift(y: ArrayLike, score: ArrayLike, fraction: float = 0.1) -> float:
    """Positive rate in the top ``fraction`` of scores over the overall rate."""
    yt, s = _arrays(y, score)
    n = len(yt)
    base = yt.mean() if n else float("nan")
    if n == 0 or base == 0:
        return float("nan")
    k = max(1, math.ceil(fraction * n))
    cut = np.sort(s)[::-1][k - 1]
    above = s > cut
    tied = s == cut
    need = k - int(above.sum())
    positives = yt[above].sum() + need * yt[tied].mean()
    return float(positives / k / base)


def brier(y: ArrayLike, p: ArrayLike) -> float:
    """Brier score."""
    yt, ps = _arrays(y, p)
    return float(np.mean((ps - yt) ** 2)) if len(yt) else float("nan")


def _bins(p: NDArray[np.float64], bins: int) -> NDArray[np.int64]:
    return np.minimum((np.clip(p, 0.0, 1.0) * bins).astype(np.int64), bins - 1)


def ece(y: ArrayLike, p: ArrayLike, bins: int = ECE_BINS) -> float:
    """Expected calibration error over ``bins`` equal-width bins."""
    yt, ps = _arrays(y, p)
    if not len(yt):
        return float("nan")
    idx = _bins(ps, bins)
    n = np.bincount(idx, minlength=bins).astype(np.float64)
    sum_y = np.bincount(idx, weights=yt, minlength=bins)
    sum_p = np.bincount(idx, weights=ps, minlength=bins)
    used = n > 0
    return float(np.sum(np.abs(sum_y[used] - sum_p[used])) / len(yt))


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of a reliability diagram."""

    low: float
    high: float
    count: int
    mean_probability: float
    observed_rate: float


def reliability(y: ArrayLike, p: ArrayLike, bins: int = ECE_BINS) -> list[ReliabilityBin]:
    """The bins behind :func:`ece` (empty bins left out)."""
    yt, ps = _arrays(y, p)
    idx = _bins(ps, bins)
    out = []
    for b in range(bins):
        m = idx == b
        if m.any():
            out.append(ReliabilityBin(b / bins, (b + 1) / bins, int(m.sum()),
                                      float(ps[m].mean()), float(yt[m].mean())))
    return out


def summary(y: ArrayLike, p: ArrayLike, score: ArrayLike | None = None) -> dict[str, Any]:
    """Every metric of probabilities ``p`` (ranking metrics on ``score`` when given)."""
    yt, ps = _arrays(y, p)
    s = ps if score is None else np.asarray(score, dtype=np.float64)
    return {
        "n": len(yt), "positives": int(yt.sum()),
        "base_rate": float(yt.mean()) if len(yt) else float("nan"),
        "auc": auc(yt, s), "pr_auc": average_precision(yt, s),
        "lift_top_decile": top_decile_lift(yt, s), "ece": ece(yt, ps), "brier": brier(yt, ps),
    }


def ranking_summary(y: ArrayLike, score: ArrayLike) -> dict[str, Any]:
    """Ranking metrics only (for scores that are not probabilities, e.g. rule points)."""
    yt, s = _arrays(y, score)
    return {
        "n": len(yt), "positives": int(yt.sum()),
        "base_rate": float(yt.mean()) if len(yt) else float("nan"),
        "auc": auc(yt, s), "pr_auc": average_precision(yt, s),
        "lift_top_decile": top_decile_lift(yt, s),
    }


def flag_summary(y: ArrayLike, flag: ArrayLike) -> dict[str, Any]:
    """How a yes/no flag (MQL, 6QA) does: size, rate of positives inside it, lift, recall."""
    yt = np.asarray(y, dtype=np.float64).ravel()
    f = np.asarray(flag, dtype=bool).ravel()
    base = float(yt.mean()) if len(yt) else float("nan")
    flagged = int(f.sum())
    rate = float(yt[f].mean()) if flagged else float("nan")
    return {
        "flagged": flagged, "share_flagged": flagged / len(yt) if len(yt) else float("nan"),
        "rate": rate, "lift": rate / base if flagged and base else float("nan"),
        "recall": float(yt[f].sum() / yt.sum()) if yt.sum() else float("nan"),
    }
