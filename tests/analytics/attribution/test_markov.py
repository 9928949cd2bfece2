"""Exact Markov attribution against an independent solver written here, in exact fractions."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import numpy as np
import pytest

from revloop.analytics.attribution import markov as markov_mod
from revloop.analytics.attribution.markov import Markov
from revloop.analytics.attribution.paths import from_sequences

Path_ = tuple[list[str], int, int, int]
START = ("<start>",)


def _solve_fractions(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Gauss–Jordan elimination in exact rational arithmetic."""
    n = len(rhs)
    a = [[*row, rhs[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        inv = 1 / a[col][col]
        a[col] = [x * inv for x in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
    return [a[i][n] for i in range(n)]


def independent_markov(paths: list[Path_], order: int) -> dict[str, object]:
    """P(conv), expected value and removal effects, from scratch.

    States are the tuples of the last ``order`` channels; removing channel c kills every state
    that *contains* c (the model kills states whose latest channel is c: the same thing, which
    this checks).
    """
    count: dict[tuple[tuple[str, ...], tuple[str, ...]], Fraction] = defaultdict(Fraction)
    out: dict[tuple[str, ...], Fraction] = defaultdict(Fraction)
    conv_at: dict[tuple[str, ...], Fraction] = defaultdict(Fraction)
    value_at: dict[tuple[str, ...], Fraction] = defaultdict(Fraction)
    for seq, conv, nulls, value in paths:
        if not seq or conv + nulls == 0:
            continue
        prev = START
        for t in range(len(seq)):
            state = tuple(seq[max(0, t - order + 1):t + 1])
            count[(prev, state)] += conv + nulls
            out[prev] += conv + nulls
            prev = state
        conv_at[prev] += conv
        value_at[prev] += value
        out[prev] += conv + nulls
    states = sorted({a for a, _ in count} | {b for _, b in count}, key=repr)

    def start_value(removed: str | None, reward: dict[tuple[str, ...], Fraction]) -> Fraction:
        alive = [s for s in states if s == START or removed is None or removed not in s]
        index = {s: i for i, s in enumerate(alive)}
        mat = [[Fraction(int(i == k)) for k in range(len(alive))] for i in range(len(alive))]
        rhs = [Fraction(0)] * len(alive)
        for s in alive:
            if out[s] == 0:
                continue
            rhs[index[s]] = reward[s] / out[s]
        for (a, b), c in count.items():
            if a in index and b in index:
                mat[index[a]][index[b]] -= c / out[a]
        return _solve_fractions(mat, rhs)[index[START]]

    channels = sorted({c for seq, *_ in paths for c in seq})
    p = start_value(None, conv_at)
    v = start_value(None, value_at)
    re = {c: 1 - start_value(c, conv_at) / p for c in channels}
    rev = {c: (1 - start_value(c, value_at) / v) if v else Fraction(0) for c in channels}
    total_c = sum(Fraction(c) for seq, c, _, _ in paths if seq)
    total_v = sum(Fraction(x) for seq, _, _, x in paths if seq)
    credits = {c: re[c] / sum(re.values()) * total_c for c in channels}
    value_credits = {c: (rev[c] / sum(rev.values()) * total_v) if sum(rev.values()) else 0
                     for c in channels}
    return {"p": p, "v": v, "re": re, "rev": rev, "credits": credits,
            "value_credits": value_credits}


def random_paths(seed: int, n_channels: int, n_paths: int, max_len: int) -> list[Path_]:
    rng = np.random.default_rng(seed)
    names = [f"ch{i}" for i in range(n_channels)]
    paths: list[Path_] = []
    for _ in range(n_paths):
        length = int(rng.integers(1, max_len + 1))
        seq = [names[int(i)] for i in rng.integers(0, n_channels, size=length)]
        conv = int(rng.integers(0, 4))
        nulls = int(rng.integers(0, 6))
        paths.append((seq, conv, nulls, conv * int(rng.integers(10, 500))))
    paths.append(([names[0]], 1, 1, 100))  # at least one conversion
    return paths


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_against_independent_solver(order: int, seed: int) -> None:
    paths = random_paths(seed * 10 + order, n_channels=3 + seed, n_paths=25, max_len=5)
    expected = independent_markov(paths, order)
    j = from_sequences([p[0] for p in paths], [p[1] for p in paths], [p[2] for p in paths],
                       [p[3] for p in paths])
    model = Markov(order=order).fit(j)
    assert model.conversion_probability_ == pytest.approx(float(expected["p"]), rel=1e-12)
    assert model.expected_value_ == pytest.approx(float(expected["v"]), rel=1e-12)
    got = model.credits_.as_dict()
    re = dict(zip(j.channels, model.removal_effects_, strict=True))
    rev = dict(zip(j.channels, model.value_removal_effects_, strict=True))
    for ch in j.channels:
        assert re[ch] == pytest.approx(float(expected["re"][ch]), rel=1e-9, abs=1e-12)  # type: ignore[index]
        assert rev[ch] == pytest.approx(float(expected["rev"][ch]), rel=1e-9, abs=1e-12)  # type: ignore[index]
        assert got[ch]["conversions"] == pytest.approx(
            float(expected["credits"][ch]), rel=1e-9, abs=1e-12)  # type: ignore[index]
        assert got[ch]["value"] == pytest.approx(
            float(expected["value_credits"][ch]), rel=1e-9, abs=1e-12)  # type: ignore[index]
    assert model.credits_.reconciles()


@pytest.mark.parametrize("order", [1, 3])
def test_sparse_solver_matches_dense(order: int, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = random_paths(99, n_channels=6, n_paths=60, max_len=6)
    j = from_sequences([p[0] for p in paths], [p[1] for p in paths], [p[2] for p in paths],
                       [p[3] for p in paths])
    dense = Markov(order=order).fit(j)
    monkeypatch.setattr(markov_mod, "DENSE_MAX_STATES", 0)
    sparse = Markov(order=order).fit(j)
    np.testing.assert_allclose(sparse.removal_effects_, dense.removal_effects_, rtol=1e-10)
    np.testing.assert_allclose(sparse.credits_.value, dense.credits_.value, rtol=1e-10)


def test_states_and_transition_matrix() -> None:
    j = from_sequences([["a", "b", "c"], ["b"]], [1, 0], [0, 1])
    model = Markov(order=2).fit(j)
    labels, probs = model.transition_matrix()
    assert labels == ["(start)", "a", "b", "a>b", "b>c", "(conversion)", "(null)"]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    start = dict(zip(labels, probs[0], strict=True))
    assert start["a"] == 0.5 and start["b"] == 0.5
    row_b = dict(zip(labels, probs[labels.index("b")], strict=True))
    assert row_b["(null)"] == 1.0  # the lone "b" journey did not convert
    assert model.n_states_ == 5
    # removing b kills (b), (a, b) and (b, c): nothing converts any more
    assert dict(zip(j.channels, model.removal_effects_, strict=True))["b"] == 1.0


def test_rejects_bad_order() -> None:
    from revloop.analytics.attribution.errors import AttributionError

    with pytest.raises(AttributionError, match="order must be 1 to 4"):
        Markov(order=5).fit(from_sequences([["a"]], [1]))


def test_no_nulls_and_unreached_channels() -> None:
    # without nulls P(conv) is 1; removing a channel on every path removes everything
    j = from_sequences([["a", "b"], ["a"]], [2, 1], [0, 0], [20, 5])
    model = Markov().fit(j)
    assert model.conversion_probability_ == pytest.approx(1.0)
    re = dict(zip(j.channels, model.removal_effects_, strict=True))
    assert re == {"a": pytest.approx(1.0), "b": pytest.approx(2 / 3)}
    assert model.credits_.conversions.sum() == 3.0
    assert model.credits_.value.sum() == 25.0
