"""Model cards: what a trained model is, what it learnt from, how well it does.

A card is plain JSON stored beside the model (``scoring_models.card``): the target and the
population, the data window, the features (with importance) and the candidates left out
(with the reason), the hyper-parameters, the calibration and score definitions, and metrics
from the cross-fitted (out-of-fold) predictions of the training rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from revloop.analytics.scoring import metrics
from revloop.analytics.scoring.buckets import GRADES, grade
from revloop.analytics.scoring.estimator import GradientBoostedScorer

SCORE_DEFINITION = (
    "score 0–100 = percentile of the model margin among the training rows' out-of-fold "
    "margins (mid-rank for ties); buckets A ≥ 90, B ≥ 70, C ≥ 40, D below")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def bucket_table(y: NDArray[np.float64], score: NDArray[np.float64]) -> list[dict[str, Any]]:
    """Rows and outcome rate per A/B/C/D bucket."""
    g = grade(score)
    out = []
    for name, low in GRADES:
        m = g == name
        out.append({"bucket": name, "min_score": low, "rows": int(m.sum()),
                    "rate": _finite(float(np.mean(y[m]))) if m.any() else None})
    return out


def build_card(*, name: str, description: str, target: str, population: str,
               window: dict[str, Any], scorer: GradientBoostedScorer,
               y: NDArray[np.float64], excluded: Sequence[dict[str, str]] = (),
               notes: Sequence[str] = ()) -> dict[str, Any]:
    """The card of a freshly fitted scorer (metrics from its out-of-fold predictions)."""
    score = scorer.score_from_margin(scorer.oof_margin_)
    m = metrics.ranking_summary(y, scorer.oof_margin_)
    features = [
        {"name": s.name, "label": s.label, "family": s.family, "kind": s.kind,
         "importance": round(scorer.importance_.get(s.name, 0.0), 5)}
        for s in sorted(scorer.specs_, key=lambda s: -scorer.importance_.get(s.name, 0.0))
    ]
    return {
        "model": name, "description": description, "target": target,
        "population": population,
        "trained_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat(),
        "data_window": window, "rows": len(y), "positives": int(np.sum(y)),
        "base_rate": float(np.mean(y)), "features": features, "excluded": list(excluded),
        "algorithm": "LightGBM gradient boosting (binary), native categorical splits",
        "hyperparameters": scorer.get_params(),
        "calibration": f"{scorer.calibration}, cross-fitted on {scorer.calibration_folds} "
                       "folds (out-of-fold margins only)",
        "score": SCORE_DEFINITION,
        "reasons": "top 3 LightGBM TreeSHAP contributions (log-odds) per record",
        "metrics_out_of_fold": {k: _finite(v) for k, v in m.items()},
        "buckets_out_of_fold": bucket_table(y, score),
        "notes": list(notes),
    }
