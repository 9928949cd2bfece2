"""Journey transforms: repeats, unique channels, dropped channels, distinct paths."""

from __future__ import annotations

import numpy as np

from revloop.analytics.attribution.paths import (
    collapse_repeats,
    distinct_paths,
    drop_channels,
    from_sequences,
    to_sequences,
    unique_channels,
)


def test_collapse_repeats_keeps_milestones_and_last_age() -> None:
    j = from_sequences(
        [["a", "a", "b", "a", "a"], [], ["c", "c"]], [1, 0, 1],
        ages=[[9, 8, 5, 3, 1], [], [4, 2]],
        milestones=[[["lead_creation"], [], [], [], ["opportunity_creation"]], [], [[], []]],
    )
    c = collapse_repeats(j)
    assert to_sequences(c) == [["a", "b", "a"], [], ["c"]]
    assert c.ages is not None and list(c.ages) == [8, 5, 1, 2]
    assert c.flags is not None
    lc, oc = 1 << c.milestones.index("lead_creation"), 1 << c.milestones.index(
        "opportunity_creation")
    assert list(c.flags) == [lc, 0, oc, 0]
    assert list(c.conversions) == [1, 0, 1]


def test_unique_channels_first_appearance() -> None:
    j = from_sequences([["a", "b", "a", "c", "b"], ["d"]], [1, 1], ages=[[5, 4, 3, 2, 1], [0]],
                       milestones=[[[], [], ["lead_creation"], [], []], [[]]])
    u = unique_channels(j)
    assert to_sequences(u) == [["a", "b", "c"], ["d"]]
    assert u.ages is not None and list(u.ages) == [5, 4, 2, 0]
    assert u.flags is not None and list(u.flags) == [1, 0, 0, 0]  # a's later touch made the lead


def test_drop_channels_and_select() -> None:
    j = from_sequences([["a", "direct", "b"], ["direct"]], [1, 1], [0, 2], [10, 20])
    d = drop_channels(j, ["direct"])
    assert to_sequences(d) == [["a", "b"], []]
    assert d.totals()["unattributed_value"] == 20
    s = j.select(np.array([1, 0]))
    assert to_sequences(s) == [["direct"], ["a", "direct", "b"]]
    assert list(s.value) == [20, 10]


def test_distinct_paths_sums_outcomes() -> None:
    j = from_sequences([["a", "b"], ["b"], ["a", "b"], ["b", "a"], []], [1, 0, 2, 1, 1],
                       [3, 1, 0, 0, 0], [10, 0, 30, 5, 7])
    d, inverse = distinct_paths(j)
    seqs = to_sequences(d)
    assert sorted(map(tuple, seqs)) == [(), ("a", "b"), ("b",), ("b", "a")]
    ab = seqs.index(["a", "b"])
    assert (d.conversions[ab], d.nulls[ab], d.value[ab]) == (3, 3, 40)
    assert inverse[0] == inverse[2] == ab
    assert d.conversions.sum() == j.conversions.sum()
