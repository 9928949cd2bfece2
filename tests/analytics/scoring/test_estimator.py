"""The scorer: explanations add up to the margin, scores and probabilities rank alike,
storage round-trips, categorical levels, grouped cross-fitting."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from revloop.analytics.scoring import metrics
from revloop.analytics.scoring.buckets import grade
from revloop.analytics.scoring.estimator import FeatureSpec, GradientBoostedScorer

SPECS = [
    FeatureSpec("visits", "numeric", "engagement", "Visits", monotone=1),
    FeatureSpec("size", "numeric", "firmographic", "Employees"),
    FeatureSpec("industry", "categorical", "firmographic", "Industry"),
    FeatureSpec("constant", "numeric", "profile", "Always 1"),
]


def _data(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    industry = rng.choice(["software", "retail", "health", "rare"], n, p=[0.4, 0.3, 0.299,
                                                                           0.001])
    visits = rng.poisson(3, n).astype(float)
    size = np.exp(rng.normal(5, 1, n))
    logit = -2 + 0.5 * visits + 0.8 * (industry == "software") + 0.3 * np.log(size) / 5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    frame = pd.DataFrame({"visits": visits, "size": size, "industry": industry,
                          "constant": 1.0})
    frame.loc[rng.random(n) < 0.05, "industry"] = None
    return frame, y


@pytest.fixture(scope="module")
def fitted() -> tuple[GradientBoostedScorer, pd.DataFrame, np.ndarray]:
    frame, y = _data()
    return GradientBoostedScorer(n_estimators=120).fit(frame, y, SPECS), frame, y


def test_contributions_add_up_to_the_margin(fitted: tuple[GradientBoostedScorer, pd.DataFrame,
                                                          np.ndarray]) -> None:
    model, frame, _ = fitted
    contrib, expected = model.contributions(frame)
    margin = model.decision_function(frame)
    assert contrib.shape == (len(frame), len(model.specs_))
    np.testing.assert_allclose(contrib.sum(axis=1) + expected, margin, atol=1e-9)


def test_probability_and_score_rank_like_the_explanations(
        fitted: tuple[GradientBoostedScorer, pd.DataFrame, np.ndarray]) -> None:
    model, frame, _ = fitted
    contrib, expected = model.contributions(frame)
    total = contrib.sum(axis=1) + expected
    _, prob, score = model.predict_all(frame)
    order = np.argsort(total, kind="stable")
    # calibrated probability and the 0–100 score never go down as the explanation sum rises
    assert np.all(np.diff(prob[order]) >= -1e-12)
    assert np.all(np.diff(score[order]) >= 0)
    assert score.min() >= 0 and score.max() <= 100
    assert model.predict_proba(frame).shape == (len(frame), 2)


def test_reasons_are_the_three_largest_contributions(
        fitted: tuple[GradientBoostedScorer, pd.DataFrame, np.ndarray]) -> None:
    model, frame, _ = fitted
    rows = frame.iloc[:50]
    reasons = model.reasons(rows)
    contrib, _ = model.contributions(rows)
    for i, rs in enumerate(reasons):
        assert len(rs) == 3
        sizes = [abs(r.contribution) for r in rs]
        assert sizes == sorted(sizes, reverse=True)
        assert sizes[0] == pytest.approx(np.abs(contrib[i]).max())
        for r in rs:
            j = [s.name for s in model.specs_].index(r.feature)
            assert r.contribution == pytest.approx(contrib[i, j])
    first = reasons[0][0]
    assert first.label in ("Visits", "Employees", "Industry") and "(" in first.text


def test_constant_features_are_dropped_and_rare_levels_share_other(
        fitted: tuple[GradientBoostedScorer, pd.DataFrame, np.ndarray]) -> None:
    model, frame, _ = fitted
    assert [s.name for s in model.specs_] == ["visits", "size", "industry"]
    assert sorted(model.categories_["industry"]) == ["health", "retail", "software"]
    assert "rare" not in model.categories_["industry"]  # fewer than 10 rows
    unseen = frame.iloc[:3].copy()
    unseen["industry"] = ["never seen", None, "rare"]
    assert np.isfinite(model.predict_probability(unseen)).all()


def test_calibration_and_discrimination_on_held_out_rows() -> None:
    frame, y = _data(6000, seed=1)
    model = GradientBoostedScorer(n_estimators=120).fit(frame.iloc[:4000], y[:4000], SPECS)
    margin, prob, score = model.predict_all(frame.iloc[4000:])
    assert metrics.auc(y[4000:], margin) > 0.7
    assert metrics.ece(y[4000:], prob) < 0.04
    # percentile scores: roughly 10% of held-out rows land in A
    assert 0.05 < np.mean(grade(score) == "A") < 0.15


def test_payload_round_trip_is_json_and_scores_identically(
        fitted: tuple[GradientBoostedScorer, pd.DataFrame, np.ndarray]) -> None:
    model, frame, _ = fitted
    text = model.to_json()
    again = GradientBoostedScorer.from_payload(json.loads(text))
    np.testing.assert_array_equal(again.predict_score(frame), model.predict_score(frame))
    np.testing.assert_allclose(again.predict_probability(frame),
                               model.predict_probability(frame))
    assert again.get_params() == model.get_params()


def test_grouped_cross_fitting_keeps_siblings_together() -> None:
    # an account seen at 5 snapshots shares its outcome across them: a calibration fold
    # model must never see a sibling of a row it predicts
    rng = np.random.default_rng(3)
    entity = np.repeat(np.arange(300), 5)
    y = np.repeat((rng.random(300) < 0.3).astype(float), 5)
    model = GradientBoostedScorer(calibration_folds=5)
    splits = model.calibration_splits(y, groups=entity)
    assert len(splits) == 5
    seen = np.zeros(len(y), dtype=int)
    for tr, te in splits:
        assert not set(entity[tr]) & set(entity[te])
        assert 0.2 < y[te].mean() < 0.4  # stratified
        seen[te] += 1
    assert (seen == 1).all()
    plain = model.calibration_splits(y)
    assert any(set(entity[tr]) & set(entity[te]) for tr, te in plain)


def test_one_outcome_is_refused() -> None:
    frame, _ = _data(100)
    with pytest.raises(ValueError, match="only one outcome"):
        GradientBoostedScorer().fit(frame, np.zeros(100), SPECS)


def test_reason_columns_are_the_reasons_as_stored_text(
        fitted: tuple[GradientBoostedScorer, pd.DataFrame, np.ndarray]) -> None:
    # the vectorised texts and JSON are character for character those of the Reason objects
    # (values: numbers above and below 100, text with quotes and non-ASCII, missing ones)
    model, frame, _ = fitted
    frame = frame.copy()
    frame.loc[frame.index[:40], "industry"] = 'Café "Ünïcode"'
    frame.loc[frame.index[40:60], "size"] = np.nan
    frame.loc[frame.index[60:80], "visits"] = 250.0
    texts, rows = model.reason_columns(frame, 3)
    reasons = model.reasons(frame, 3)
    width = len(reasons[0])
    for k in range(3):
        assert texts[k] == ([r[k].text for r in reasons] if k < width else [])
    assert rows == [json.dumps([r.to_dict() for r in rs], default=str) for rs in reasons]
    assert model.reason_columns(frame.iloc[:0], 3) == ([[], [], []], [])
