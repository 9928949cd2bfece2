"""The Zhao et al. closed form against the full 2ⁿ enumeration of the coalition game."""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pytest

from revloop.analytics.attribution.paths import from_sequences
from revloop.analytics.attribution.shapley import Shapley


def enumerated_shapley(n: int, worth: dict[frozenset[int], float]) -> list[float]:
    """Shapley values from the definition: weighted marginal contributions over all coalitions,
    with v(S) = Σ_{T ⊆ S} R(T) computed for every one of the 2ⁿ coalitions."""
    players = range(n)
    v: dict[frozenset[int], float] = {}
    for size in range(n + 1):
        for coalition in itertools.combinations(players, size):
            s = frozenset(coalition)
            v[s] = sum(r for t, r in worth.items() if t <= s)
    phi = []
    for j in players:
        others = [p for p in players if p != j]
        total = 0.0
        for size in range(n):
            weight = factorial(size) * factorial(n - size - 1) / factorial(n)
            for coalition in itertools.combinations(others, size):
                s = frozenset(coalition)
                total += weight * (v[s | {j}] - v[s])
        phi.append(total)
    return phi


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_closed_form_equals_enumeration(n: int) -> None:
    rng = np.random.default_rng(n)
    names = [f"c{i}" for i in range(n)]
    worth: dict[frozenset[int], float] = {}
    paths, conv, nulls, value = [], [], [], []
    subsets = [frozenset(s) for k in range(1, n + 1) for s in itertools.combinations(range(n), k)]
    for t in rng.permutation(len(subsets))[: min(40, len(subsets))]:
        members = sorted(subsets[int(t)])
        r = float(rng.integers(0, 6))
        worth[frozenset(members)] = worth.get(frozenset(members), 0.0) + r
        # journeys may repeat channels and come in any order: only the set matters
        seq = [names[m] for m in rng.permutation(members)]
        seq += [names[int(rng.choice(members))] for _ in range(int(rng.integers(0, 3)))]
        paths.append(seq)
        conv.append(r)
        nulls.append(float(rng.integers(0, 5)))
        value.append(r * 10)
    expected = enumerated_shapley(n, worth)
    j = from_sequences(paths, conv, nulls, value, channels=names)
    credits = Shapley().fit(j).credits_
    np.testing.assert_allclose(credits.conversions, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(credits.value, np.asarray(expected) * 10, rtol=1e-12, atol=1e-9)
    assert credits.reconciles()


def test_ordered_credits_positions() -> None:
    j = from_sequences([["a", "b", "a"], ["b", "a"], ["a"], ["c"]], [2, 1, 3, 0], [0, 0, 0, 4],
                       [20, 10, 30, 0])
    model = Shapley(ordered=True).fit(j)
    # a>b>a counts as a>b (first appearances): a first 2/2, b second 2/2
    np.testing.assert_allclose(model.positions_[0], [1 + 3, 0.5])  # a
    np.testing.assert_allclose(model.positions_[1], [0.5, 1.0])  # b
    np.testing.assert_allclose(model.positions_[2], [0.0, 0.0])  # c never converted
    np.testing.assert_allclose(model.positions_.sum(axis=1), model.credits_.conversions)
    np.testing.assert_allclose(model.value_positions_.sum(axis=1), model.credits_.value)
    assert model.credits_.details["positions"]["a"] == [4.0, 0.5]
    unordered = Shapley().fit(j).credits_
    np.testing.assert_allclose(unordered.conversions, model.credits_.conversions)
