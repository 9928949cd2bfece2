"""Bootstrap intervals, and every model's credits summing exactly to what they split."""

from __future__ import annotations

import math

import numpy as np
import pytest

from revloop.analytics.attribution.bootstrap import bootstrap
from revloop.analytics.attribution.compare import compare
from revloop.analytics.attribution.credits import AttributionModel
from revloop.analytics.attribution.heuristics import (
    FirstTouch,
    FullPath,
    LastNonDirect,
    LastTouch,
    Linear,
    MilestoneWeights,
    TimeDecay,
    UShaped,
    WShaped,
)
from revloop.analytics.attribution.markov import Markov
from revloop.analytics.attribution.paths import Journeys, from_sequences
from revloop.analytics.attribution.shapley import Shapley
from tests.analytics.attribution.golden import golden_journeys

ALL_MODELS: list[AttributionModel] = [
    FirstTouch(), LastTouch(), LastNonDirect(), Linear(), TimeDecay(3.0), UShaped(), WShaped(),
    FullPath(), MilestoneWeights({"first": 1, "mql": 2}, rest=0.5), Markov(1), Markov(2),
    Markov(3), Markov(4), Shapley(), Shapley(ordered=True),
]


def random_journeys(seed: int, n: int = 400) -> Journeys:
    rng = np.random.default_rng(seed)
    names = ["direct", "email", "paid_search", "webinar", "events", "display"]
    marks_pool = [[], [], [], ["lead_creation"], ["opportunity_creation"], ["mql"]]
    paths, conv, nulls, value, ages, marks = [], [], [], [], [], []
    for _ in range(n):
        length = int(rng.integers(0, 7))
        paths.append([names[int(i)] for i in rng.integers(0, len(names), size=length)])
        converted = bool(rng.random() < 0.3)
        conv.append(float(converted) * (0.5 if rng.random() < 0.2 else 1.0))
        nulls.append(0.0 if converted else 1.0)
        value.append(float(rng.integers(1, 10_000)) if converted else 0.0)
        ages.append(sorted(rng.uniform(0, 90, size=length).tolist(), reverse=True))
        marks.append([marks_pool[int(i)] for i in rng.integers(0, len(marks_pool), size=length)])
    return from_sequences(paths, conv, nulls, value, ages=ages, milestones=marks)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_model_reconciles(seed: int) -> None:
    j = random_journeys(seed)
    has = j.has_touches
    for model in ALL_MODELS:
        credits = model.fit(j).credits_
        assert credits.total_conversions == pytest.approx(j.conversions[has].sum())
        assert math.fsum(credits.conversions) == credits.total_conversions, model.label
        assert math.fsum(credits.value) == credits.total_value, model.label
        assert (credits.conversions >= -1e-12).all()
        totals = j.totals()
        assert credits.total_value + totals["unattributed_value"] == pytest.approx(
            totals["value"])


def test_bootstrap_intervals_cover_the_estimate_and_are_reproducible() -> None:
    j = golden_journeys()
    for model in (Markov(), Shapley(), Linear()):
        point = model.fit(j).credits_
        a = bootstrap(model, j, replicates=300, confidence=0.9, seed=7)
        b = bootstrap(model, j, replicates=300, confidence=0.9, seed=7)
        np.testing.assert_array_equal(a.conversions_low, b.conversions_low)
        assert (a.conversions_low <= point.conversions + 1e-9).all()
        assert (a.conversions_high >= point.conversions - 1e-9).all()
        assert (a.value_low <= point.value + 1e-9).all()
        assert (a.value_high >= point.value - 1e-9).all()
        assert (a.conversions_se > 0).all()


def test_bootstrap_narrows_with_more_journeys() -> None:
    small = golden_journeys()
    big = small.with_outcomes(small.conversions * 100, small.nulls * 100, small.value * 100)
    wide = bootstrap(Markov(), small, replicates=200, seed=1)
    narrow = bootstrap(Markov(), big, replicates=200, seed=1)
    rel_wide = (wide.share_high - wide.share_low).mean()
    rel_narrow = (narrow.share_high - narrow.share_low).mean()
    assert rel_narrow < rel_wide / 5


def test_bootstrap_replicates_follow_the_resampled_counts() -> None:
    # one path only: every replicate converts a binomial number of journeys, all credited to
    # the single channel, so the interval of its credit is the binomial interval of 50 of 100
    j = from_sequences([["a"]], [50], [50], [500])
    iv = bootstrap(Linear(), j, replicates=2000, confidence=0.95, seed=3)
    assert 38 <= iv.conversions_low[0] <= 42 and 58 <= iv.conversions_high[0] <= 62
    assert iv.value_low[0] == pytest.approx(iv.conversions_low[0] * 10)
    assert iv.share_low[0] == iv.share_high[0] == 1.0


def test_comparison_table() -> None:
    j = golden_journeys()
    credits = [m.fit(j).credits_ for m in (LastTouch(), Markov(), Shapley())]
    table = compare(credits)
    assert table.models == ("last_touch", "markov", "shapley")
    first = table.rows[0]
    # direct gets 8/13 under last touch: the biggest disagreement in the golden set
    assert first.channel == "direct" and first.high_model == "last_touch"
    assert first.spread == pytest.approx(8 / 13 - 2.733333 / 13, abs=1e-6)
    assert first.ranks["last_touch"] == 1
    assert table.rank_correlation["markov"]["markov"] == pytest.approx(1.0)
    shares = [sum(r.shares[m] for r in table.rows) for m in table.models]
    assert shares == pytest.approx([1.0, 1.0, 1.0])
