"""The golden figures of issue 5, to 1e-6."""

from __future__ import annotations

from pathlib import Path

import pytest

from revloop.analytics.attribution.heuristics import Linear
from revloop.analytics.attribution.markov import Markov
from revloop.analytics.attribution.pathfile import read_path_file
from revloop.analytics.attribution.paths import collapse_repeats
from revloop.analytics.attribution.shapley import Shapley
from tests.analytics.attribution.golden import (
    LINEAR,
    MARKOV,
    P_CONVERSION,
    REMOVAL_EFFECTS,
    SHAPLEY,
    golden_journeys,
    write_golden,
)


def _check(credits: dict[str, dict[str, float]], expected: dict[str, float]) -> None:
    assert set(credits) == set(expected)
    for channel, want in expected.items():
        assert credits[channel]["conversions"] == pytest.approx(want, abs=1e-6), channel


@pytest.mark.parametrize("collapse", [True, False])
def test_markov_first_order(collapse: bool) -> None:
    # repeats collapsed or not, an order-1 chain has the same absorption probabilities
    j = golden_journeys()
    model = Markov(order=1).fit(collapse_repeats(j) if collapse else j)
    assert model.conversion_probability_ == pytest.approx(P_CONVERSION, abs=1e-12)
    effects = dict(zip(model.credits_.channels, model.removal_effects_, strict=True))
    for channel, want in REMOVAL_EFFECTS.items():
        assert effects[channel] == pytest.approx(want, abs=1e-6), channel
    _check(model.credits_.as_dict(), MARKOV)
    assert sum(model.credits_.conversions) == 13.0


def test_shapley_and_linear() -> None:
    j = golden_journeys()
    _check(Shapley().fit(j).credits_.as_dict(), SHAPLEY)
    _check(Shapley(ordered=True).fit(j).credits_.as_dict(), SHAPLEY)
    _check(Linear().fit(j).credits_.as_dict(), LINEAR)


def test_golden_from_the_csv_file(tmp_path: Path) -> None:
    journeys, notes = read_path_file(write_golden(tmp_path))
    assert notes == []
    _check(Markov().fit(journeys).credits_.as_dict(), MARKOV)
    _check(Shapley().fit(journeys).credits_.as_dict(), SHAPLEY)
    _check(Linear().fit(journeys).credits_.as_dict(), LINEAR)
    assert journeys.value.sum() == 1415.0
