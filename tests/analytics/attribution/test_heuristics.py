"""Every rule-based model on hand-computed journeys, missing milestones included."""

from __future__ import annotations

import numpy as np
import pytest

from revloop.analytics.attribution.errors import AttributionError
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
    parse_weights,
)
from revloop.analytics.attribution.paths import Journeys, from_sequences

LC, OC, CW = "lead_creation", "opportunity_creation", "closed_won"


def weights(model: object, journeys: Journeys) -> list[list[float]]:
    w = model.touch_weights(journeys)  # type: ignore[attr-defined]
    return [list(np.round(w[a:b], 12)) for a, b in
            zip(journeys.offsets[:-1], journeys.offsets[1:], strict=True)]


def one(path: list[str], marks: list[list[str]] | None = None,
        ages: list[float] | None = None) -> Journeys:
    return from_sequences([path], [1], milestones=None if marks is None else [marks],
                          ages=None if ages is None else [ages])


def test_first_last_linear() -> None:
    j = from_sequences([["a", "b", "c"], ["d"], []], [1, 2, 1], value=[30, 20, 5])
    assert weights(FirstTouch(), j) == [[1, 0, 0], [1], []]
    assert weights(LastTouch(), j) == [[0, 0, 1], [1], []]
    assert weights(Linear(), j)[0] == pytest.approx([1 / 3] * 3)
    credits = Linear().fit(j).credits_
    # the journey without touches is not credited: it is reported as unattributed
    assert credits.total_conversions == 3 and credits.total_value == 50
    assert credits.as_dict()["a"] == {"conversions": pytest.approx(1 / 3), "value": 10.0}
    assert j.totals()["unattributed_value"] == 5


def test_last_non_direct() -> None:
    j = from_sequences([["email", "direct", "direct"], ["direct", "direct"], ["direct", "ads"]],
                       [1, 1, 1])
    assert weights(LastNonDirect(), j) == [[1, 0, 0], [0, 1], [0, 1]]
    assert weights(LastNonDirect(direct_channels=("direct", "email")), j)[0] == [0, 0, 1]


def test_time_decay_days_and_touches() -> None:
    j = one(["a", "b", "c"], ages=[14, 7, 0])
    # half-life 7 days: 1/4, 1/2, 1 normalised
    assert weights(TimeDecay(7), j)[0] == pytest.approx([0.25 / 1.75, 0.5 / 1.75, 1 / 1.75])
    assert weights(TimeDecay(1, unit="touches"), j)[0] == pytest.approx(
        [0.25 / 1.75, 0.5 / 1.75, 1 / 1.75])
    # very old touches do not underflow: weights are relative to the most recent touch
    far = one(["a", "b"], ages=[5000, 4000])
    assert weights(TimeDecay(1), far)[0] == pytest.approx([0, 1])
    with pytest.raises(AttributionError, match="needs touch timestamps"):
        TimeDecay(7).fit(from_sequences([["a"]], [1]))
    with pytest.raises(AttributionError, match="half-life must be positive"):
        TimeDecay(0, unit="touches").fit(from_sequences([["a"]], [1]))


def test_u_shaped_by_length() -> None:
    j = from_sequences([["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]], [1] * 4)
    assert weights(UShaped(), j) == [[1], [0.5, 0.5], [0.4, 0.2, 0.4], [0.4, 0.1, 0.1, 0.4]]


def test_w_shaped_all_milestones() -> None:
    j = one(["a", "b", "c", "d", "e"], [[], [], [LC], [], [OC]])
    assert weights(WShaped(), j) == [[0.3, 0.05, 0.3, 0.05, 0.3]]


def test_w_shaped_missing_lead_creation_redistributes_proportionally() -> None:
    # no touch led to lead creation: its 30 % goes to the others in proportion 30:30:10
    j = one(["a", "b", "c"], [[], [], [OC]])
    assert weights(WShaped(), j)[0] == pytest.approx([3 / 7, 1 / 7, 3 / 7])


def test_w_shaped_missing_both_milestones() -> None:
    j = one(["a", "b", "c"], [[], [], []])
    assert weights(WShaped(), j)[0] == pytest.approx([0.75, 0.125, 0.125])
    # journeys without any flags at all behave the same (aggregated files)
    assert weights(WShaped(), from_sequences([["a", "b", "c"]], [1]))[0] == pytest.approx(
        [0.75, 0.125, 0.125])


def test_w_shaped_shared_touch_and_no_rest() -> None:
    # the first touch also created the lead: it holds 60 %; no rest touches: 10 % moves
    j = one(["a", "b"], [[LC], [OC]])
    assert weights(WShaped(), j)[0] == pytest.approx([2 / 3, 1 / 3])
    single = one(["a"], [[LC, OC]])
    assert weights(WShaped(), single) == [[1.0]]


def test_full_path() -> None:
    j = one(["a", "b", "c", "d", "e", "f"], [[], [LC], [], [OC], [], [CW]])
    assert weights(FullPath(), j)[0] == pytest.approx([0.225, 0.225, 0.05, 0.225, 0.05, 0.225])
    # closed won missing (pipeline journeys): 22.5 % spread over 22.5:22.5:22.5:10
    j = one(["a", "b", "c", "d"], [[], [LC], [], [OC]])
    assert weights(FullPath(), j)[0] == pytest.approx(
        [0.225 / 0.775, 0.225 / 0.775, 0.1 / 0.775, 0.225 / 0.775])


def test_custom_weights_stages_and_fallback() -> None:
    j = one(["a", "b", "c", "d"], [[], ["mql"], [], []])
    model = MilestoneWeights({"first": 0.2, "mql": 0.5, "last": 0.2}, rest=0.1)
    assert weights(model, j)[0] == pytest.approx([0.2, 0.5, 0.1, 0.2])
    # every listed milestone missing and no rest weight: split equally
    only_sql = MilestoneWeights({"sql": 1.0})
    assert weights(only_sql, j)[0] == pytest.approx([0.25] * 4)
    # two touches marked with the same milestone share its weight
    twice = one(["a", "b", "c"], [["mql"], [], ["mql"]])
    assert weights(MilestoneWeights({"mql": 1.0}, rest=0.0), twice)[0] == [0.5, 0, 0.5]


def test_custom_missing_milestone_details() -> None:
    j = from_sequences([["a", "b"], ["a"]], [1, 2], milestones=[[[LC], []], [[]]])
    credits = WShaped().fit(j).credits_
    missing = credits.details["conversions_missing_milestone"]
    assert missing == {LC: 2.0, OC: 2.0 + 1.0}
    assert credits.reconciles()


def test_parse_weights() -> None:
    assert parse_weights("first=0.3, lead_creation=0.3,opportunity_creation=0.3,rest=0.1") == (
        {"first": 0.3, "lead_creation": 0.3, "opportunity_creation": 0.3}, 0.1)
    for bad in ("first", "first=-1", "first=x", "rest=0.5", ""):
        with pytest.raises(AttributionError):
            parse_weights(bad)
