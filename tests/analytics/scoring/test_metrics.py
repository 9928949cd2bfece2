"""Metrics against scikit-learn (a peer implementation) and hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from revloop.analytics.scoring import metrics


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_pr_auc_brier_match_scikit_learn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(2000) < 0.3).astype(float)
    score = np.round(rng.random(2000) + 0.4 * y, 1)  # rounding makes many ties
    assert metrics.auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert metrics.average_precision(y, score) == pytest.approx(
        average_precision_score(y, score), abs=1e-12)
    p = np.clip(score / 1.5, 0, 1)
    assert metrics.brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_ece_by_hand() -> None:
    # bin [0.1, 0.2): p 0.1, 0.1 → observed 0/2: |0 - 0.1| · 2/5
    # bin [0.8, 0.9): p 0.8, 0.8, 0.8 → observed 2/3: |0.667 - 0.8| · 3/5
    y = np.array([0, 0, 1, 1, 0])
    p = np.array([0.1, 0.1, 0.8, 0.8, 0.8])
    expected = 0.1 * 2 / 5 + abs(2 / 3 - 0.8) * 3 / 5
    assert metrics.ece(y, p) == pytest.approx(expected)
    bins = metrics.reliability(y, p)
    assert [(b.low, b.count) for b in bins] == [(0.1, 2), (0.8, 3)]
    # probability 1.0 falls in the last bin, not an eleventh one
    assert metrics.ece([1], [1.0]) == 0.0


def test_lift_in_the_top_decile_with_ties_at_the_cut() -> None:
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1] * 2, dtype=float)  # 20 rows, 6 positive
    score = np.arange(20, dtype=float)[::-1]  # row 0 best
    # top 2 rows: both positive → rate 1.0 over base 0.3
    assert metrics.top_decile_lift(y, score) == pytest.approx(1 / 0.3)
    tied = np.ones(20)
    assert metrics.top_decile_lift(y, tied) == pytest.approx(1.0)  # expected value: no lift
    score2 = np.r_[[5.0], np.full(19, 1.0)]  # one clear best (positive), 19 tied
    # 1 positive + 1 place shared by 19 rows with 5/19 positives
    assert metrics.top_decile_lift(y, score2) == pytest.approx((1 + 5 / 19) / 2 / 0.3)


def test_flag_summary() -> None:
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0], dtype=float)
    flag = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    s = metrics.flag_summary(y, flag)
    assert s["flagged"] == 3 and s["rate"] == pytest.approx(2 / 3)
    assert s["lift"] == pytest.approx((2 / 3) / (3 / 8))
    assert s["recall"] == pytest.approx(2 / 3)


def test_degenerate_inputs() -> None:
    assert np.isnan(metrics.auc([1, 1], [0.2, 0.3]))
    assert np.isnan(metrics.average_precision([0, 0], [0.2, 0.3]))
    with pytest.raises(ValueError, match="2 outcomes but 3 scores"):
        metrics.auc([0, 1], [0.1, 0.2, 0.3])
