"""Deal snapshot features on every engine, worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from revloop import facade
from revloop.analytics.scoring.features_opportunity import (
    opportunity_feature_query,
    plan_opportunity_features,
)
from revloop.store import Store

ACCOUNTS = "account_id,name,industry,employees\nA,Acme,software,100\n"
USERS = "user_id,name,role,team_id\nu1,Una,rep,t1\nu2,Ugo,rep,t2\n"
OPPORTUNITIES = """\
opportunity_id,account_id,owner_id,product,created_at,close_date,is_closed,is_won,amount
o1,A,u1,core,2024-01-01T00:00:00,2024-02-01,true,true,160
o2,A,u1,core,2024-01-15T00:00:00,2024-03-20,true,false,0
o3,A,u1,addon,2024-02-01T00:00:00,2024-05-01,false,false,90
o5,A,u1,core,2024-03-01T00:00:00,2024-03-10,true,true,50
o4,A,u2,addon,2024-04-01T00:00:00,2024-06-01,true,true,70
"""
TRANSITIONS = """entity_type,entity_id,to_stage,occurred_at,amount,probability
opportunity,o1,qualification,2024-01-01T00:00:00,100,10
opportunity,o1,proposal,2024-01-20T00:00:00,150,50
opportunity,o1,closed_won,2024-02-01T00:00:00,160,100
opportunity,o2,qualification,2024-01-15T00:00:00,200,10
opportunity,o2,closed_lost,2024-03-20T00:00:00,0,0
opportunity,o3,qualification,2024-02-01T00:00:00,90,10
opportunity,o5,qualification,2024-03-01T00:00:00,50,20
opportunity,o4,qualification,2024-04-01T00:00:00,70,20
"""


def _load(store: Store, folder: Path) -> None:
    folder.mkdir(parents=True)
    files = {"accounts.csv": ACCOUNTS, "users.csv": USERS,
             "opportunities.csv": OPPORTUNITIES, "stage_transitions.csv": TRANSITIONS}
    paths = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    assert facade.import_files(store, "canonical", paths).reconciles
    facade.build_model(store)


def test_snapshots_stage_amount_and_history_by_hand(backend: Store, tmp_path: Path) -> None:
    _load(backend, tmp_path / "deals")
    plan = plan_opportunity_features(backend)
    assert plan.stage_history and plan.amounts and plan.probabilities
    frame = opportunity_feature_query(backend, plan, ages=(0, 30, 60, 90),
                                      closed_only=True).fetch()
    rows = {(r["opportunity_id"], r["days_open"]): r for r in frame.to_dict("records")}
    # a snapshot exists only while the deal is open: o1 closed after 31 days, o2 after 65,
    # o4 after 61, o5 after 9
    assert sorted(rows) == [("o1", 0.0), ("o1", 30.0), ("o2", 0.0), ("o2", 30.0),
                            ("o2", 60.0), ("o4", 0.0), ("o4", 30.0), ("o4", 60.0),
                            ("o5", 0.0)]
    assert rows[("o1", 0.0)]["stage_at"] == "qualification"
    assert rows[("o1", 0.0)]["amount_at"] == 100 and rows[("o1", 0.0)]["probability_at"] == 10
    assert rows[("o1", 30.0)]["stage_at"] == "proposal"
    assert rows[("o1", 30.0)]["amount_at"] == 150 and rows[("o1", 30.0)]["stage_changes"] == 2
    # the closing transition is never seen (it is the outcome)
    assert rows[("o2", 60.0)]["stage_at"] == "qualification"
    assert rows[("o2", 60.0)]["amount_at"] == 200
    # history at creation, smoothed (won + 1) / (closed + 2)
    assert rows[("o2", 0.0)]["account_win_rate_before"] == pytest.approx(0.5)  # o1 still open
    # o4 (2024-04-01): the account had won o1 and o5 and lost o2 → 3/5; owner u2 new → 1/2
    assert rows[("o4", 0.0)]["account_win_rate_before"] == pytest.approx(0.6)
    assert rows[("o4", 0.0)]["owner_win_rate_before"] == pytest.approx(0.5)
    # o5 (2024-03-01): u1 had won o1 only (o2 closes later) → 2/3
    assert rows[("o5", 0.0)]["owner_win_rate_before"] == pytest.approx(2 / 3)
    assert not any(r["_is_won"] for r in frame.to_dict("records")
                   if r["opportunity_id"] == "o2")


def test_as_of_snapshot_of_open_deals(backend: Store, tmp_path: Path) -> None:
    _load(backend, tmp_path / "deals")
    plan = plan_opportunity_features(backend)
    frame = opportunity_feature_query(backend, plan, as_of=dt.datetime(2024, 2, 15)).fetch()
    rows = {r["opportunity_id"]: r for r in frame.to_dict("records")}
    assert sorted(rows) == ["o1", "o2", "o3"]  # created before the as-of date
    o3 = rows["o3"]
    assert o3["days_open"] == pytest.approx(14.0) and o3["stage_at"] == "qualification"
    # o1 closed on 2024-02-01, the day o3 was created at midnight: not counted yet
    assert o3["account_win_rate_before"] == pytest.approx(0.5)
    # closing stages are the outcome, never a feature: o1 shows its last open stage
    assert rows["o1"]["stage_at"] == "proposal"
