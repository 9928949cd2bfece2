"""Real funnels against pandas on the raw CSVs: Olist (8,000 MQLs, 842 won deals) and Maven CRM."""

from __future__ import annotations

import pandas as pd
import pytest

from revloop import facade
from revloop.analytics.funnel import FunnelReport, FunnelRequest, definitions_from_settings
from revloop.store import Store
from tests.conftest import EXAMPLES, datasets_or_skip


def _expected() -> tuple[pd.DataFrame, pd.Series]:
    """Per origin: MQLs, won and rate; and every won lead's days from first contact to won."""
    folder = datasets_or_skip() / "olist_marketing_funnel"
    mql = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv",
                      parse_dates=["first_contact_date"])
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv", parse_dates=["won_date"])
    mql["origin"] = mql["origin"].fillna("(none)")
    mql["won"] = mql["mql_id"].isin(deals["mql_id"])
    by_origin = mql.groupby("origin").agg(entered=("mql_id", "size"), won=("won", "sum"))
    by_origin["rate"] = by_origin["won"] / by_origin["entered"]
    joined = deals.merge(mql, on="mql_id")
    # the waterfall convention: a won lead entered MQL at the latest when it was won (a few
    # deals are dated up to two days before the first contact)
    days = (joined["won_date"] - joined["first_contact_date"]).dt.total_seconds() / 86400
    return by_origin, days.clip(lower=0)


def test_olist_conversion_by_origin_and_days_to_won(backend: Store) -> None:
    by_origin, days = _expected()
    folder = datasets_or_skip() / "olist_marketing_funnel"
    result = facade.import_files(backend, "mapped", sorted(folder.glob("*.csv")),
                                 mapping=EXAMPLES / "olist.yaml")
    assert result.reconciles
    facade.build_model(backend)
    report = FunnelReport(definitions_from_settings())
    res = report.run(backend, FunnelRequest(level="lead", by=("lead_source", "channel"),
                                            cohort="month"))
    assert res.stages == ["mql", "won"]  # Olist records no other stage
    mql = res.stage("mql")
    assert (mql.entered, mql.won) == (8000, 842)
    assert mql.won_rate == pytest.approx(842 / 8000)
    cut = res.cut("lead_source", "mql")
    assert set(cut) == set(by_origin.index)
    for origin, row in by_origin.iterrows():
        assert (cut[origin].entered, cut[origin].won) == (row["entered"], row["won"]), origin
        assert cut[origin].won_rate == pytest.approx(row["rate"], rel=1e-12)
    to_won = res.velocity_of("mql", "won")
    assert to_won is not None and to_won.n == len(days) == 842
    assert to_won.median_days == pytest.approx(days.median(), rel=1e-12)
    assert to_won.p90_days == pytest.approx(days.quantile(0.9), rel=1e-12)
    assert to_won.mean_days == pytest.approx(days.mean(), rel=1e-12)
    # the mapped first-touch channel groups origins (direct_traffic → direct, …)
    channel = res.cut("channel", "mql")
    assert channel["direct"].entered == by_origin.loc["direct_traffic", "entered"]
    assert channel["organic_social"].won == by_origin.loc["social", "won"]
    # monthly cohorts of the first contact add up to the whole
    assert sum(c.size for c in res.cohorts) == 8000
    assert sum(c.reached["won"] for c in res.cohorts) == 842


def test_maven_opportunity_funnel_by_product(backend: Store) -> None:
    """Maven CRM through its example mapping: engaged deals → won / lost, by product."""
    folder = datasets_or_skip() / "maven_crm_sales_opportunities"
    files = [folder / n for n in ("accounts.csv", "sales_teams.csv", "sales_pipeline.csv")]
    assert facade.import_files(backend, "mapped", files,
                               mapping=EXAMPLES / "maven_crm.yaml").reconciles
    facade.build_model(backend)
    pipe = pd.read_csv(folder / "sales_pipeline.csv", parse_dates=["engage_date",
                                                                   "close_date"])
    pipe["product"] = pipe["product"].replace({"GTXPro": "GTX Pro"})
    engaged = pipe[pipe["engage_date"].notna()]
    res = FunnelReport(definitions_from_settings()).run(
        backend, FunnelRequest(level="opportunity", by=("product",)))
    assert res.stages == ["opportunity", "won"]
    row = res.stage("opportunity")
    assert (row.entered, row.won) == (len(engaged), int((engaged.deal_stage == "Won").sum()))
    assert (row.exited, row.open) == (int((engaged.deal_stage == "Lost").sum()),
                                      int((engaged.deal_stage == "Engaging").sum()))
    won = engaged[engaged.deal_stage == "Won"]
    days = (won.close_date - won.engage_date).dt.days
    assert res.velocity_of("opportunity", "won").median_days == days.median()  # type: ignore[union-attr]
    cut = res.cut("product", "opportunity")
    for product, group in engaged.groupby("product"):
        assert (cut[product].entered, cut[product].won) == (
            len(group), int((group.deal_stage == "Won").sum())), product
    lost = {x.reason: x.events for x in res.leakage if x.exit == "lost"}
    assert sum(lost.values()) == int((engaged.deal_stage == "Lost").sum())
