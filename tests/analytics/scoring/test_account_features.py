"""Point-in-time account features on every engine: against pandas, and no future leakage."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revloop import facade
from revloop.analytics.scoring.features_account import (
    account_feature_query,
    in_market_labels,
    plan_account_features,
)
from revloop.analytics.scoring.features_opportunity import (
    opportunity_feature_query,
    plan_opportunity_features,
)
from revloop.store import Store
from tests.analytics.scoring.helpers import load_world
from tests.analytics.scoring.world import WorldSize, build_world

TINY = WorldSize(accounts=24, contacts_per_account=4, days=400, seed=11)
AS_OF = dt.datetime(2023, 10, 1)


def _frame(store: Store, as_of: dt.datetime = AS_OF) -> pd.DataFrame:
    plan = plan_account_features(store)
    df = account_feature_query(store, plan, as_of).fetch()
    return df.sort_values("account_id").reset_index(drop=True)


def _expected(world_tables: dict[str, pa.Table], as_of: dt.datetime) -> pd.DataFrame:
    """The same features computed by hand in pandas from the generated rows."""
    acc = world_tables["accounts"].to_pandas()
    con = world_tables["contacts"].to_pandas()
    tou = world_tables["touchpoints"].to_pandas()
    ins = world_tables["intent_signals"].to_pandas()
    opp = world_tables["opportunities"].to_pandas()
    tec = world_tables["technographics"].to_pandas()
    now = pd.Timestamp(as_of)
    acc = acc[acc.created_at < now]
    # ages are measured in whole seconds on every engine
    tou = tou.assign(occurred_at=tou.occurred_at.dt.floor("s"))
    tou = tou.merge(con[["contact_id", "account_id", "seniority"]], on="contact_id")
    tou = tou[(tou.occurred_at < now) & (tou.occurred_at >= now - pd.Timedelta(days=365))]
    age = (now - tou.occurred_at).dt.total_seconds() / 86400
    tou = tou.assign(age=age, decay=np.exp(-math.log(2) * age / 30))
    day = pd.to_datetime(ins.day)
    ins = ins[(day < now.normalize()) & (day >= now.normalize() - pd.Timedelta(days=120))]
    ins = ins.assign(age=(now - pd.to_datetime(ins.day)).dt.total_seconds() / 86400)
    rows = []
    for a in acc.account_id:
        t = tou[tou.account_id == a]
        i = ins[ins.account_id == a]
        o = opp[(opp.account_id == a) & (opp.created_at < now)]
        closed = o.is_closed & (pd.to_datetime(o.close_date) < now.normalize())
        tech = tec[(tec.account_id == a) & (pd.to_datetime(tec.first_seen) < now.normalize())]
        people = con[(con.account_id == a) & (con.created_at < now)]
        rows.append({
            "account_id": a,
            "touches_30d": float((t.age < 30).sum()),
            "touches_365d": float(len(t)),
            "decayed_touches": float(t.decay.sum()),
            "engaged_contacts_90d": float(t[t.age < 90].contact_id.nunique()),
            "engaged_senior_90d": float(t[(t.age < 90) & t.seniority.isin(
                ["c_level", "vp", "director"])].contact_id.nunique()),
            "days_since_last_touch": float(t.age.min()) if len(t) else np.nan,
            "intent_30d": float(i[i.age <= 30].score.sum()),
            "intent_topics_30d": float(i[i.age <= 30].topic.nunique()),
            "opportunities_before": float(len(o)),
            "won_before": float((closed & o.is_won).sum()),
            "open_now": float((~closed).sum()),
            "technologies": float(tech.technology.nunique()),
            "contacts_known": float(len(people)),
        })
    return pd.DataFrame(rows).sort_values("account_id").reset_index(drop=True)


def test_features_match_pandas_on_every_engine(backend: Store, tmp_path: Path) -> None:
    world = build_world(TINY)
    load_world(backend, world, tmp_path / "w", truth=False)
    got = _frame(backend)
    want = _expected(world.tables, AS_OF)
    assert got["account_id"].tolist() == want["account_id"].tolist()
    assert len(got) >= 20
    for col in want.columns[1:]:
        np.testing.assert_allclose(got[col].to_numpy(dtype=float), want[col].to_numpy(),
                                   rtol=1e-9, atol=1e-9, err_msg=col)
    assert want["touches_30d"].sum() > 0 and want["intent_30d"].sum() > 0
    assert want["won_before"].sum() > 0


def _future_rows(world_tables: dict[str, pa.Table], as_of: dt.datetime,
                 folder: Path) -> list[Path]:
    """Rows of every kind dated at or after ``as_of`` (what must not leak back)."""
    folder.mkdir(parents=True, exist_ok=True)
    acc = world_tables["accounts"].column("account_id").to_pylist()[:6]
    con = world_tables["contacts"].column("contact_id").to_pylist()[:6]
    after = [as_of + dt.timedelta(hours=h) for h in (0, 1, 30, 24 * 40)]
    tables = {
        "touchpoints": pa.table({
            "touchpoint_id": [f"future-t{i}" for i in range(len(con) * len(after))],
            "occurred_at": pa.array([w for _ in con for w in after], pa.timestamp("us")),
            "contact_id": [c for c in con for _ in after],
            "touch_type": ["form_fill"] * (len(con) * len(after)),
            "channel": ["paid_search"] * (len(con) * len(after)),
        }),
        "intent_signals": pa.table({
            "account_id": acc, "topic": ["lead scoring"] * len(acc),
            "day": pa.array([as_of.date()] * len(acc), pa.date32()), "score": [99.0] * len(acc),
        }),
        "opportunities": pa.table({
            "opportunity_id": [f"future-o{i}" for i in range(len(acc))], "account_id": acc,
            "created_at": pa.array([as_of] * len(acc), pa.timestamp("us")),
            "close_date": pa.array([as_of.date()] * len(acc), pa.date32()),
            "is_closed": [True] * len(acc), "is_won": [True] * len(acc),
            "opportunity_type": ["new"] * len(acc),
        }),
        "contacts": pa.table({
            "contact_id": [f"future-c{i}" for i in range(len(acc))], "account_id": acc,
            "seniority": ["vp"] * len(acc),
            "created_at": pa.array([as_of] * len(acc), pa.timestamp("us")),
        }),
        "technographics": pa.table({
            "account_id": acc, "technology": ["brand new tech"] * len(acc),
            "category": ["crm"] * len(acc),
            "first_seen": pa.array([as_of.date()] * len(acc), pa.date32()),
        }),
        "stage_transitions": pa.table({
            "entity_type": ["account"] * len(acc), "entity_id": acc,
            "to_stage": ["customer"] * len(acc),
            "occurred_at": pa.array([as_of] * len(acc), pa.timestamp("us")),
        }),
        "accounts": pa.table({
            "account_id": ["future-acc"], "industry": ["software"],
            "created_at": pa.array([as_of], pa.timestamp("us")),
        }),
    }
    paths = []
    for name, table in tables.items():
        path = folder / f"{name}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths


def test_no_future_row_leaks_into_point_in_time_features(backend: Store,
                                                         tmp_path: Path) -> None:
    world = build_world(TINY)
    load_world(backend, world, tmp_path / "w", truth=False)
    plan = plan_account_features(backend)
    before = account_feature_query(backend, plan, AS_OF).fetch().sort_values("account_id")
    opp_plan = plan_opportunity_features(backend)
    deals_before = opportunity_feature_query(backend, opp_plan, as_of=AS_OF).fetch()
    labels_before = in_market_labels(backend, AS_OF, 90).count().execute()
    later = AS_OF + dt.timedelta(days=60)
    later_before = account_feature_query(backend, plan, later).fetch().set_index("account_id")

    result = facade.import_files(backend, "canonical",
                                 _future_rows(world.tables, AS_OF, tmp_path / "future"))
    assert result.reconciles and result.total("quarantined") == 0
    facade.build_model(backend)

    after = account_feature_query(backend, plan, AS_OF).fetch().sort_values("account_id")
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))
    deals_after = opportunity_feature_query(backend, opp_plan, as_of=AS_OF).fetch()
    key = ["opportunity_id"]
    pd.testing.assert_frame_equal(deals_before.sort_values(key).reset_index(drop=True),
                                  deals_after.sort_values(key).reset_index(drop=True))
    # the future rows are there and do count later: the test is not vacuous
    later_after = account_feature_query(backend, plan, later).fetch().set_index("account_id")
    first = world.tables["accounts"].column("account_id").to_pylist()[0]
    assert later_after.loc[first, "technologies"] == later_before.loc[first, "technologies"] + 1
    assert later_after.loc[first, "is_customer"] == 1.0
    assert later_after.loc[first, "touches_90d"] > later_before.loc[first, "touches_90d"]
    assert "future-acc" in later_after.index and "future-acc" not in later_before.index
    assert in_market_labels(backend, AS_OF, 90).count().execute() > labels_before


@pytest.mark.parametrize("hours", [0, 12])
def test_as_of_is_exclusive(duck: Store, tmp_path: Path, hours: int) -> None:
    """A touch exactly at the as-of instant is not seen; one a second earlier is."""
    world = build_world(TINY)
    load_world(duck, world, tmp_path / "w", truth=False)
    plan = plan_account_features(duck)
    as_of = AS_OF + dt.timedelta(hours=hours)
    base = account_feature_query(duck, plan, as_of).fetch().set_index("account_id")
    contact = world.tables["contacts"].slice(0, 1).to_pylist()[0]
    path = tmp_path / "edge" / "touchpoints.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table({
        "touchpoint_id": ["edge-1", "edge-2"],
        "occurred_at": pa.array([as_of, as_of - dt.timedelta(seconds=1)], pa.timestamp("us")),
        "contact_id": [contact["contact_id"]] * 2, "touch_type": ["visit"] * 2,
    }), path)
    facade.import_files(duck, "canonical", [path])
    facade.build_model(duck)
    again = account_feature_query(duck, plan, as_of).fetch().set_index("account_id")
    acc = contact["account_id"]
    assert again.loc[acc, "touches_7d"] == base.loc[acc, "touches_7d"] + 1
