"""Journeys from the store on every engine, against the hand-derived journeys of world.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from revloop import facade
from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.journeys import StoreJourneys, build_journeys
from revloop.analytics.attribution.paths import Journeys, from_sequences, to_sequences
from revloop.analytics.attribution.request import AttributionRequest
from revloop.analytics.attribution.runner import run
from revloop.store import Store
from tests.analytics.attribution import world
from tests.analytics.attribution.world import write_world

Row = tuple[tuple[str, ...], float, float, float]


@pytest.fixture
def world_store(backend: Store, tmp_path: Path) -> Store:
    facade.import_files(backend, "canonical", write_world(tmp_path / "world"))
    facade.build_model(backend)
    return backend


@pytest.fixture
def duck_world(duck: Store, tmp_path: Path) -> Store:
    facade.import_files(duck, "canonical", write_world(tmp_path / "world"))
    facade.build_model(duck)
    return duck


def rows(journeys: Journeys) -> list[Row]:
    return sorted((tuple(p), float(c), float(n), float(v)) for p, c, n, v in zip(
        to_sequences(journeys), journeys.conversions, journeys.nulls, journeys.value,
        strict=True))


def expected(spec: list[tuple[list[str], int, int, int]]) -> list[Row]:
    return sorted((tuple(p), float(c), float(n), float(v)) for p, c, n, v in spec)


def flags_of(built: StoreJourneys, path: list[str]) -> list[set[str]]:
    j = built.journeys
    seqs = to_sequences(j)
    i = seqs.index(path)
    assert j.flags is not None
    out = []
    for f in j.flags[j.offsets[i]:j.offsets[i + 1]]:
        out.append({m for b, m in enumerate(j.milestones) if int(f) & (1 << b)})
    return out


def test_journeys_on_every_engine(world_store: Store) -> None:
    store = world_store
    cases = [
        (AttributionRequest(level="account", metric="pipeline"), world.ACCOUNT_PIPELINE),
        (AttributionRequest(level="account", metric="revenue"), world.ACCOUNT_REVENUE),
        (AttributionRequest(level="contact", metric="pipeline"), world.CONTACT_PIPELINE),
        (AttributionRequest(level="contact", metric="conversions", conversion_stage="mql"),
         world.CONTACT_MQL),
        (AttributionRequest(level="account", metric="pipeline", method="sql"),
         world.ACCOUNT_PIPELINE),
    ]
    for req, spec in cases:
        built = build_journeys(store, req)
        assert rows(built.journeys) == expected(spec), req
    # milestones: c-1 (created 2024-01-05) is the first lead in acc-1's window → the touch
    # before it (paid search on 01-04) created the lead; the events touch preceded o1
    built = build_journeys(store, AttributionRequest(level="account", metric="revenue"))
    o1 = ["display", "paid_search", "email", "webinar", "direct", "events", "sales"]
    assert flags_of(built, o1) == [set(), {"lead_creation"}, set(), set(), set(),
                                   {"opportunity_creation"}, {"closed_won"}]
    # by campaign and by a JSON property, with touch types and channels excluded
    built = build_journeys(store, AttributionRequest(
        level="account", by="campaign", exclude_touch_types=("email_open",),
        exclude_channels=("sales",)))
    o3 = ["cmp-dis", "cmp-ps", "cmp-em", "cmp-web", "(none)", "cmp-ev"]  # t08, t09 gone
    assert o3 in to_sequences(built.journeys)
    assert built.group_names["cmp-ps"] == "Search brand"
    built = build_journeys(store, AttributionRequest(level="account", by="region"))
    assert ["emea", "emea", "(none)", "(none)", "(none)", "(none)"] in to_sequences(
        built.journeys)
    assert ["na", "(none)", "(none)"] in to_sequences(built.journeys)
    # the whole run, spend included (date filters on campaign_spend), on this engine
    result = run(store, AttributionRequest(start=date(2024, 1, 1), end=date(2024, 12, 31),
                                           models=("markov",)))
    assert result.model("markov").total_value == 170000
    spend = {r.group: r.spend for r in result.spend or [] if r.spend}
    assert spend["display"] == 1500 and spend["paid_search"] == pytest.approx(5000)


def test_windows_and_period(duck_world: Store) -> None:
    # 30 days before o1 (2024-03-01 12:00): only the form fill of 02-01 onwards
    built = build_journeys(duck_world, AttributionRequest(lookback_days=30))
    assert ["webinar", "direct", "events"] in to_sequences(built.journeys)
    # a 200-day conversion window: acc-2's tail (last touch 06-01) and acc-4's (02-03) are
    # not silent long enough before 2024-10-01 … acc-4's is (241 days)
    built = build_journeys(duck_world, AttributionRequest(conversion_window_days=200))
    tails = [p for p, n in zip(to_sequences(built.journeys), built.journeys.nulls,
                               strict=True) if n]
    assert tails == [["paid_search", "display"]]
    # only milestones in March: o1 and o2 (and the tails, which end in the period)
    built = build_journeys(duck_world, AttributionRequest(start=date(2024, 3, 1),
                                                      end=date(2024, 3, 31)))
    conv = built.journeys.conversions.sum()
    assert conv == 2 and built.journeys.value.sum() == 150000
    # the data end is the day after --end: every journey ends before 2024-04-01 - 90 days
    assert built.data_end.isoformat() == "2024-04-01T00:00:00"


def test_models_on_store_journeys_equal_models_on_the_hand_journeys(duck_world: Store) -> None:
    result = run(duck_world, AttributionRequest(
        level="account", models=("linear", "markov", "shapley", "w_shaped", "first_touch")))
    spec = world.ACCOUNT_PIPELINE
    hand = from_sequences([p for p, *_ in spec], [c for _, c, _, _ in spec],
                          [n for _, _, n, _ in spec], [v for *_, v in spec],
                          channels=tuple(result.groups))
    from revloop.analytics.attribution.heuristics import FirstTouch, Linear
    from revloop.analytics.attribution.markov import Markov
    from revloop.analytics.attribution.shapley import Shapley

    for model in (Linear(), Markov(), Shapley(), FirstTouch()):
        want = model.fit(hand).credits_
        got = result.model(model.label)
        np.testing.assert_allclose(got.column("value"), want.value, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(got.column("conversions"), want.conversions, rtol=1e-12,
                                   atol=1e-12)
    assert result.totals["unattributed_value"] == 30000
    assert result.totals["attributed_value"] == 170000
    # W-shaped on o1: 30 % display (first), 30 % paid search (lead), 30 % events (opp),
    # 10 % over email, webinar, direct; o3 adds its own split of 20,000
    w = result.model("w_shaped").by_group("value")
    assert w["display"] == pytest.approx(0.3 * 100000 + 0.3 * 20000)


def test_sourced_influenced_and_spend(duck_world: Store) -> None:
    result = run(duck_world, AttributionRequest(level="account", models=("markov", "linear")))
    doc = result.to_json()
    rows_ = {r["group"]: r for r in doc["sourced_influenced"] or []}
    # sourced: first touches of o1, o3 (display) and o2 (paid_social)
    assert rows_["display"]["sourced_value"] == 120000
    assert rows_["paid_social"]["sourced_value"] == 50000
    # touched counts every deal a channel touched, whole
    assert rows_["email"]["touched_value"] == 170000
    assert rows_["webinar"]["touched"] == 3
    # the CRM's own source field, beside the touch-based figures
    assert rows_["paid_search"]["crm_sourced_value"] == 100000
    assert rows_["partner"]["crm_sourced_value"] == 30000  # o4: no touch at all
    assert sum(r["influenced_value"] for r in rows_.values()) == pytest.approx(170000)
    spend = {r["group"]: r for r in doc["spend"] or []}
    assert {g: r["spend"] for g, r in spend.items() if r["spend"]} == {
        "display": 1500, "email": 200, "paid_search": 5000, "webinar": 3000,
        "paid_social": 800, "events": 4000}
    ev = spend["events"]
    assert ev["model"] == "markov"
    assert ev["cost_per_opportunity"] == pytest.approx(4000 / ev["opportunities"])
    assert ev["roas"] == pytest.approx(ev["revenue"] / 4000)
    assert ev["roi"] == pytest.approx((ev["revenue"] - 4000) / 4000)
    # won deals credited on the same journeys: o1 won, o2 lost, o3 open (not won yet)
    assert sum(r["won_deals"] or 0 for r in spend.values()) == pytest.approx(1.0)
    assert sum(r["revenue"] or 0 for r in spend.values()) == pytest.approx(100000)
    # with a period, a campaign known only by its total cost counts its days in the period
    march = run(duck_world, AttributionRequest(start=date(2024, 1, 1), end=date(2024, 3, 31),
                                               models=("linear",)))
    ps = next(r for r in march.spend or [] if r.group == "paid_search")
    assert ps.spend == pytest.approx(5000 * 91 / 366)


def test_unbuilt_store(tmp_path: Path) -> None:
    from revloop.store import connect

    with connect(f"duckdb:///{tmp_path / 'empty.duckdb'}") as empty, \
            pytest.raises(AttributionError, match="run `revloop build`"):
        build_journeys(empty, AttributionRequest())


def test_bad_requests(duck_world: Store) -> None:
    with pytest.raises(AttributionError, match="level must be contact or account"):
        build_journeys(duck_world, AttributionRequest(level="team"))
    with pytest.raises(AttributionError, match="lookback window must be positive"):
        build_journeys(duck_world, AttributionRequest(lookback_days=0))
    with pytest.raises(AttributionError, match="property name"):
        build_journeys(duck_world, AttributionRequest(by="x'); drop table"))
    with pytest.raises(AttributionError, match="is after --end"):
        build_journeys(duck_world, AttributionRequest(start=date(2024, 2, 1),
                                                  end=date(2024, 1, 1)))


def test_truth_recovery(duck_world: Store) -> None:
    import pyarrow as pa

    models = ("last_touch", "linear", "markov")
    plain = run(duck_world, AttributionRequest(models=models))
    assert plain.truth is None  # no truth table in this store
    linear = plain.model("linear").by_group("value")
    # a world whose true effects rank channels exactly as linear credits them
    channels = sorted(linear)
    duck_world.write_arrow("truth_channel_effects", pa.table({
        "channel": channels, "incremental_opportunities": [0.0] * len(channels),
        "incremental_pipeline": [linear[c] for c in channels],
        "incremental_revenue": [0.0] * len(channels)}))
    result = run(duck_world, AttributionRequest(models=models))
    assert result.truth is not None
    assert result.truth.spearman["linear"] == pytest.approx(1.0)
    assert next(iter(result.truth.spearman)) == "linear"
    last = result.model("last_touch").by_group("value")

    def average_ranks(values: list[float]) -> list[float]:
        # ties share the mean of the ranks they span
        return [sum(1 for w in values if w < v) + (sum(1 for w in values if w == v) + 1) / 2
                for v in values]

    expected = np.corrcoef(average_ranks([linear[c] for c in channels]),
                           average_ranks([last[c] for c in channels]))[0, 1]
    assert result.truth.spearman["last_touch"] == pytest.approx(expected)
    assert result.truth.beats_last_touch["linear"] is True
    # revenue compares with incremental revenue, which is constant here: undefined
    revenue = run(duck_world, AttributionRequest(metric="revenue", models=models))
    assert revenue.truth is not None and revenue.truth.spearman["linear"] is None
