"""The SF0.1 company of seed 1 looks like a B2B revenue engine (acceptance ranges), measured
from its files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from revloop.generator.company import generate
from revloop.generator.config import GeneratorConfig
from revloop.generator.profile import CompanyProfile, company_profile


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sf01") / "company"
    generate(GeneratorConfig(scale=0.1, seed=1), folder)
    return folder


@pytest.fixture(scope="module")
def profile(company: Path) -> CompanyProfile:
    return company_profile(company)


def test_size_is_a_tenth_of_sf1(profile: CompanyProfile) -> None:
    assert profile.accounts == 3_000
    assert 25_000 <= profile.contacts <= 35_000
    assert 800_000 <= profile.touchpoints <= 1_300_000
    assert 1_600 <= profile.opportunities <= 2_800


def test_funnel_rates(profile: CompanyProfile) -> None:
    assert 0.10 <= profile.mql_to_sql <= 0.40
    assert 0.15 <= profile.win_rate <= 0.35
    assert 30 <= profile.median_cycle_days <= 120


def test_heavy_tails(profile: CompanyProfile) -> None:
    assert profile.deal_top_decile_share >= 0.30  # a lognormal would give ~0.1 at σ→0
    assert profile.deal_skewness >= 2.0
    assert profile.content_top_decile_share >= 0.5


def test_weekday_rhythm(profile: CompanyProfile) -> None:
    assert profile.weekday_to_weekend_traffic >= 2.0


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    for v in np.unique(values):  # ties share their mean rank
        ranks[values == v] = ranks[values == v].mean()
    return ranks


def test_channel_effects_are_real_and_distinct(profile: CompanyProfile) -> None:
    fx = {r["channel"]: r for r in profile.channel_effects}
    realised = np.array([r["incremental_opportunities"] for r in fx.values()], dtype=float)
    expected = np.array([r["expected_incremental_opportunities"] for r in fx.values()])
    # the realised books follow the expected ones: the differences are signal, not noise
    spearman = np.corrcoef(_ranks(realised), _ranks(expected))[0, 1]
    assert spearman >= 0.9
    # effects span more than an order of magnitude, and a channel with none has none
    assert fx["direct"]["incremental_opportunities"] == 0
    assert np.sort(realised)[-3:].min() >= 4 * np.median(np.sort(realised)[:6])
    # per in-market touch, events and partners work far better than display
    per_touch = {k: r["expected_incremental_opportunities"] / r["in_market_touches"]
                 for k, r in fx.items()}
    assert per_touch["events"] > 10 * per_touch["display"]
    assert per_touch["partner"] > 10 * per_touch["display"]


def test_truth_tables_are_consistent(company: Path) -> None:
    truth = company / "truth"
    windows = pq.read_table(truth / "truth_in_market_windows.parquet").to_pylist()
    opps = {r["opportunity_id"]: r for r in pq.read_table(
        company / "opportunities.parquet").to_pylist()}
    converted = [w for w in windows if w["converted"]]
    assert converted and all(w["opportunity_id"] in opps for w in converted)
    assert all(w["opportunity_id"] is None for w in windows if not w["converted"])
    for w in converted:
        opp = opps[w["opportunity_id"]]
        assert opp["opportunity_type"] == w["opportunity_type"]
        assert w["window_start"] <= w["decided_at"] < opp["created_at"]
    drivers = pq.read_table(truth / "truth_opportunity_drivers.parquet").to_pylist()
    shares: dict[str, float] = {}
    for d in drivers:
        if d["driver_type"] != "campaign":
            shares[d["opportunity_id"]] = shares.get(d["opportunity_id"], 0.0) + d["share"]
    assert set(shares) == {w["opportunity_id"] for w in converted}
    assert max(abs(s - 1.0) for s in shares.values()) < 1e-9
    # campaign books add up to their channel's touches
    camp = pq.read_table(truth / "truth_campaign_effects.parquet").to_pylist()
    chan = {r["channel"]: r for r in pq.read_table(
        truth / "truth_channel_effects.parquet").to_pylist()}
    for name in ("paid_search", "webinar", "email"):
        assert sum(c["touches"] for c in camp if c["channel"] == name) == chan[name]["touches"]
