"""The funnel report on every engine, checked against the plain-Python reference and by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from revloop import facade
from revloop.analytics.funnel import FunnelReport, FunnelRequest, definitions_from_settings
from revloop.analytics.funnel.result import FunnelResult
from revloop.store import Store
from tests.analytics.funnel import reference as ref
from tests.analytics.funnel.world import write_world

DAY = 86400.0
T = dt.datetime


def built(store: Store, tmp_path: Path) -> Store:
    result = facade.import_files(store, "canonical", write_world(tmp_path / "world"))
    assert result.reconciles and result.total("quarantined") == 0
    facade.build_model(store)
    return store


def run(store: Store, people_with_deals: bool = False, **request: Any) -> FunnelResult:
    report = FunnelReport(definitions_from_settings(), people_with_deals=people_with_deals)
    return report.run(store, FunnelRequest(**request))


def approx(x: float | None) -> Any:
    return None if x is None else pytest.approx(x, rel=1e-9, abs=1e-9)


def check_against_reference(res: FunnelResult, r: ref.Ref) -> None:
    """Every section of ``res`` equals the reference's."""
    assert res.as_of == r.as_of
    assert res.stages == r.active
    assert res.journeys == len(r.journeys)
    assert res.entities == len({j.entity for j in r.journeys.values()})
    funnel = r.funnel()
    for row in res.funnel:
        exp = funnel[row.stage]
        got = {k: getattr(row, k) for k in exp}
        assert got == exp, row.stage
        assert row.conversion_rate == (None if exp["converted"] is None or not exp["entered"]
                                       else approx(exp["converted"] / exp["entered"]))
    vel = r.velocity()
    for v in res.velocity:
        exp_v = vel.get((v.stage, v.kind))
        if exp_v is None:
            assert v.n == 0 and v.median_days is None
            continue
        assert v.n == exp_v["n"]
        assert v.mean_days == approx(exp_v["mean"])
        for name, q in (("p10_days", 10), ("p25_days", 25), ("median_days", 50),
                        ("p75_days", 75), ("p90_days", 90)):
            assert getattr(v, name) == approx(exp_v[f"p{q}"]), (v.stage, v.kind, name)
    ages = r.ages()
    thresholds = r.thresholds(res.stall_percentile)
    stalled = r.stalled(res.stall_percentile)
    for t in res.time_in_stage:
        xs = sorted(a for _, a in ages.get(t.stage, []))
        assert t.open == len(xs), t.stage
        if xs:
            assert t.median_days == approx(ref.np.percentile(xs, 50) / DAY)
        assert t.stall_threshold_days == approx(
            thresholds[t.stage] / DAY if t.stage in thresholds else None)
        assert t.stalled == sum(1 for jid, _ in ages.get(t.stage, []) if jid in stalled)
    assert res.stalled_total == len(stalled)
    assert {s.journey_id: s.days_in_stage for s in res.stalled} == {
        k: approx(v / DAY) for k, v in stalled.items()}
    cohorts = r.cohorts()
    assert [c.cohort for c in res.cohorts] == list(cohorts)
    for c in res.cohorts:
        exp_c = cohorts[c.cohort]
        assert c.size == exp_c["size"]
        assert c.reached == {s: exp_c[s] for s in r.active}
    leak = r.leakage()
    assert {(x.stage, x.exit, x.reason): {"events": x.events, "entities": x.entities,
                                          "final": x.final} for x in res.leakage} == leak
    post, customers = r.post_sale()
    assert res.customers == customers
    for p in res.post_sale:
        exp_p = post.get(p.event, {"events": 0, "entities": 0, "amount": 0.0})
        assert (p.events, p.entities, p.amount) == (exp_p["events"], exp_p["entities"],
                                                    approx(exp_p["amount"]))


def check_status(res: FunnelResult, level: str, **kw: Any) -> None:
    """Status now and one month earlier, each from a reference rerun as known then."""
    st = res.status
    now = ref.report(level, as_of=st.now, **kw).status(st.before)
    before = ref.report(level, as_of=st.before, **kw)
    before.active = res.stages
    then = before.status(st.previous_start)
    for row in st.rows:
        if row.name not in now:
            continue
        count, amount, entered = now[row.name]
        assert (row.count_now, row.amount_now, row.entered_now) == (
            count, approx(amount), entered), row.name
        count, amount, entered = then[row.name]
        assert (row.count_before, row.amount_before, row.entered_before) == (
            count, approx(amount), entered), row.name


def test_lead_funnel_by_hand_and_against_the_reference(backend: Store, tmp_path: Path) -> None:
    store = built(backend, tmp_path)
    res = run(store, level="lead", by=("channel", "owner", "segment", "custom.tier"))
    # -- by hand: the conventions on the tricky cases --------------------------------------
    assert res.as_of == T(2024, 4, 1)  # the latest mapped lead event (L7 won)
    assert res.stages == ["inquiry", "mql", "sal", "sql", "opportunity", "won"]
    assert res.journeys == 10  # L11 has only an unmapped value
    assert [(u.entity_type, u.value, u.rows) for u in res.unmapped] == [
        ("lead", "weird_status", 1)]
    f = {row.stage: row for row in res.funnel}
    # L3 skipped MQL and SAL, L7 skipped everything up to won: they count as having passed
    assert (f["mql"].entered, f["mql"].observed) == (8, 6)
    assert (f["sal"].entered, f["sal"].observed) == (6, 4)
    assert (f["won"].entered, f["inquiry"].won) == (2, 2)
    # L2 (re-entered), L4 (out of order), L5 (same instant) are open at SAL; L10 at MQL
    assert (f["sal"].open, f["mql"].open, f["inquiry"].open) == (3, 1, 1)
    # L3 exited at SQL (bad fit), L8 at MQL (same instant as its MQL), L9 at inquiry
    assert (f["sql"].exited, f["mql"].exited, f["inquiry"].exited) == (1, 1, 1)
    # out of order: L4's SAL (02-05) before its MQL (02-10) makes both 02-05
    stalled = {s.journey_id: s for s in res.stalled}
    assert stalled["L4"].since == T(2024, 2, 5)
    # same instant: L5's MQL → SAL takes zero days; L2 re-entered SAL on 03-05
    assert stalled["L5"].since == T(2024, 2, 15, 10)
    assert stalled["L2"].since == T(2024, 3, 5) and stalled["L2"].owner_name == "Sam Sdr"
    assert stalled["L2"].team_name == "West"
    leak = {(x.stage, x.exit, x.reason): x for x in res.leakage}
    assert leak[("mql", "recycled", "no budget")].final == 0  # L2 came back
    assert leak[("inquiry", "disqualified", "bad fit")].final == 1  # L9: one exit, not two
    assert ("inquiry", "recycled", "timing") not in leak
    assert leak[(None, "recycled", "old list")].events == 1  # L10, before any stage
    assert leak[("mql", "disqualified", "spam")].final == 1
    mql_to_won = res.velocity_of("inquiry", "won")
    assert mql_to_won is not None and mql_to_won.n == 2
    assert mql_to_won.median_days == pytest.approx((60 + 87) / 2)  # L1 60 d, L7 87 d
    # -- everything against the reference ------------------------------------------------
    check_against_reference(res, ref.report("lead"))
    check_status(res, "lead")
    # -- cuts -----------------------------------------------------------------------------
    r = ref.report("lead")
    for dim in ("channel", "owner", "segment", "custom.tier"):
        values = ref.lead_dimension(dim)
        for value in sorted(set(values.values())):
            js = [j for j in r.journeys.values() if values.get(j.entity, "(none)") == value]
            exp = r.funnel(js)
            got = res.cut(dim, "inquiry")[value]
            assert (got.entered, got.won) == (exp["inquiry"]["entered"],
                                              exp["inquiry"]["won"]), (dim, value)
            won_days = sorted(d / DAY for d in r.durations("inquiry", "won", js))
            assert got.median_days_won == approx(
                float(ref.np.median(won_days)) if won_days else None)
    channels = {v: res.cut("channel", "inquiry")[v].entered
                for v in res.cut("channel", "inquiry")}
    # L1's first touch is paid search (12-30, before its e-mail); L4's two touches at one
    # instant resolve to the alphabetically first channel; L6 has neither touch nor source
    assert channels == {"paid_search": 1, "events": 1, "display": 1, "web": 3, "partner": 1,
                        "(none)": 1, "event": 2}
    assert res.cut("owner", "inquiry")["u1"].label == "Rita Rep"
    assert res.cut("custom.tier", "inquiry")["gold"].entered == 2


def test_account_and_opportunity_levels(backend: Store, tmp_path: Path) -> None:
    store = built(backend, tmp_path)
    acc = run(store, level="account", by=("channel", "segment", "product"))
    check_against_reference(acc, ref.report("account"))
    check_status(acc, "account")
    f = {row.stage: row for row in acc.funnel}
    # A2: L3 disqualified at SQL, O2 lost at opportunity, L4 still open at SAL → open, its
    # furthest stage is opportunity; A3 won through L7; A1 won through L1 / O1
    assert (f["opportunity"].entered, f["opportunity"].open, f["won"].entered) == (3, 1, 2)
    post = {p.event: p for p in acc.post_sale}
    assert (post["renewal"].entities, post["renewal"].amount) == (1, 800.0)
    assert post["churn"].entities == 1 and acc.customers == 2
    assert post["renewal"].rate == pytest.approx(0.5)
    leak = {(x.stage, x.exit, x.reason): x for x in acc.leakage}
    assert leak[("opportunity", "lost", "price")].events == 1
    channel = ref.account_channel()
    for value in set(channel.values()):
        assert acc.cut("channel", "inquiry")[value].entered == sum(
            1 for v in channel.values() if v == value)
    assert acc.cut("product", "inquiry")["Pro"].entered == 2  # A1 (O1) and A3 (O4)
    # the open deal O4 carries its amount from the deal (not recorded on the transition)
    status = {s.name: s for s in acc.status.rows}
    assert status["won"].count_now == 1  # A3, 04-01 (A1 won 03-01, before the period)

    opp = run(store, level="opportunity", by=("product", "owner", "campaign"))
    check_against_reference(opp, ref.report("opportunity"))
    check_status(opp, "opportunity")
    assert opp.stages == ["opportunity", "won"]
    o = {row.stage: row for row in opp.funnel}
    # O3 is a renewal (post-sale); O5 has no opportunity record but its transitions count
    assert (o["opportunity"].entered, o["opportunity"].converted) == (4, 1)
    assert (o["opportunity"].open, o["opportunity"].exited) == (2, 1)
    assert opp.cut("product", "opportunity")["(none)"].entered == 1
    assert opp.cut("campaign", "opportunity")["c1"].label == "Spring search"
    assert opp.velocity_of("opportunity") is not None
    assert opp.velocity_of("opportunity").median_days == pytest.approx(29.0)  # type: ignore[union-attr]  # 2024 is a leap year


@pytest.mark.slow
def test_cycle_mode_windows_range_and_as_of(backend: Store, tmp_path: Path) -> None:
    store = built(backend, tmp_path)
    cyc = run(store, level="lead", reentry="cycle")
    check_against_reference(cyc, ref.report("lead", reentry="cycle"))
    check_status(cyc, "lead", reentry="cycle")
    # L2's recycled pass and its second pass are two journeys; so are L10's exit-only pass
    # (no stage: no journey) and its later pass
    ids = {s.journey_id for s in cyc.stalled}
    assert "L2#1" in ids
    assert cyc.journeys == 11 and cyc.entities == 10

    kw = {"window": 5.0, "won_window": 70.0, "start": T(2024, 1, 4), "end": T(2024, 3, 1)}
    win = run(store, level="lead", window_days=5, won_window_days=70, start=kw["start"],
              end=kw["end"])
    check_against_reference(win, ref.report("lead", window=5.0, won_window=70.0,
                                            start=kw["start"], end=kw["end"]))

    early = run(store, level="lead", as_of=T(2024, 2, 10))
    check_against_reference(early, ref.report("lead", as_of=T(2024, 2, 10)))
    check_status(early, "lead")
    assert early.stage("won").entered == 0

    deals = run(store, people_with_deals=True, level="lead")
    check_against_reference(deals, ref.report("lead", people_with_deals=True))
