"""Account models on a generated world: backtest vs the MQL baseline and the planted truth,
stored versions, apply, explain."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from revloop.analytics.scoring.apply import load, score_accounts
from revloop.analytics.scoring.errors import ModelNotFoundError
from revloop.analytics.scoring.evaluation import Evaluation, backtest_accounts
from revloop.analytics.scoring.features_account import AccountPlan, account_feature_query
from revloop.analytics.scoring.model_store import MODELS_TABLE, list_models, load_model
from revloop.analytics.scoring.rules import FitBuckets, StageThresholds, load_rules
from revloop.analytics.scoring.training import AccountOptions
from revloop.facade import scoring
from revloop.store import Store, connect
from tests.analytics.scoring.helpers import load_world
from tests.analytics.scoring.world import WorldSize, build_world
from tests.conftest import EXAMPLES

RULES = EXAMPLES / "scoring.yaml"


@pytest.fixture(scope="module")
def world_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("world")
    store = connect(f"duckdb:///{folder / 'store.duckdb'}")
    load_world(store, build_world(WorldSize(accounts=400, seed=7)), folder / "files")
    yield store
    store.close()


@pytest.fixture(scope="module")
def backtest(world_store: Store) -> dict[str, Evaluation]:
    return backtest_accounts(world_store, AccountOptions(), rules=load_rules(RULES))


def test_in_market_backtest_beats_the_mql_baseline(backtest: dict[str, Evaluation]) -> None:
    ev = backtest["in_market"]
    m = ev.metrics
    assert m["n"] > 1000 and m["positives"] > 50
    assert m["auc"] > 0.85 and m["lift_top_decile"] > 3.0
    assert m["ece"] < 0.06 and m["brier"] < 0.1
    assert ev.baseline is not None
    assert ev.baseline["ranking"]["auc"] < m["auc"] - 0.1
    # engagement and intent alone each rank better than chance, in-market best of all
    assert backtest["engagement"].metrics["auc"] > 0.7
    assert backtest["intent"].metrics["auc"] > 0.7
    assert m["auc"] >= max(backtest["engagement"].metrics["auc"],
                           backtest["intent"].metrics["auc"]) - 0.02


def test_6qa_opens_opportunities_far_more_often_than_mqls(
        backtest: dict[str, Evaluation]) -> None:
    comp = backtest["in_market"].comparison
    assert comp["6qa"]["flagged"] > 30
    assert comp["6qa_vs_mql_rate_ratio"] >= 2.0
    stages = comp["stages"]
    # the further along the buying stage, the more often an opportunity follows
    assert stages["Purchase"]["rate"] > stages["Decision"]["rate"] > stages["Awareness"]["rate"]


def test_truth_recovered(backtest: dict[str, Evaluation]) -> None:
    truth = backtest["in_market"].truth
    assert truth is not None
    assert truth["in_market_auc_vs_truth"] > 0.85
    assert truth["6qa_truly_in_market"] > 0.6
    assert truth["fit_vs_truth_auc"] > 0.65
    assert truth["ceiling_ratio_vs_mql"] > 1.5
    fit = backtest["account_fit"]
    assert fit.window["population"] == "accounts with no deal before the cut-off"


def test_train_store_apply_and_explain(world_store: Store, tmp_path: Path) -> None:
    result = scoring.train(world_store, scoring.TrainRequest(models=["accounts"], rules=RULES))
    assert [c["model_id"] for c in result.trained] == [
        "engagement@1", "intent@1", "in_market@1", "account_fit@1"]
    card = result.trained[2]
    assert card["data_window"]["horizon_days"] == 90 and len(card["data_window"][
        "snapshots"]) == 12
    assert card["features"][0]["importance"] >= card["features"][-1]["importance"]
    again = scoring.train(world_store, scoring.TrainRequest(models=["in-market"], rules=RULES))
    assert again.trained[0]["model_id"] == "in_market@2"
    assert {r["model_id"] for r in list_models(world_store)} >= {"in_market@1", "in_market@2"}
    assert load_model(world_store, "in_market").version == 2
    assert load_model(world_store, "in_market", 1).version == 1
    # the stored payload is plain JSON: a LightGBM text model, no pickle
    payload = load_model(world_store, "in_market").payload
    assert payload["scorer"]["booster"].startswith("tree")
    json.dumps(payload)

    applied = scoring.apply(world_store, scoring.ApplyRequest(models=["accounts"],
                                                              rules=RULES))
    acc = applied.to_json()["accounts"]
    assert acc["rows"] == world_store.count("account_scores") > 300
    assert set(acc["buying_stages"]) <= {"Target", "Awareness", "Consideration", "Decision",
                                         "Purchase"}
    top = acc["top"][0]
    assert len(top["in_market_reasons"]) == 3 and top["in_market_score"] >= 90
    assert top["is_6qa"] == (top["fit_level"] in ("strong", "moderate")
                             and top["buying_stage"] in ("Decision", "Purchase"))
    stored = world_store.table("account_scores").to_pyarrow().to_pylist()
    assert {"account_id", "in_market_score", "buying_stage", "is_6qa", "fit_level"} <= set(
        stored[0])

    ex = scoring.explain(world_store, scoring.ExplainRequest(id=top["account_id"],
                                                             rules=RULES))
    assert ex.kind == "account"
    assert ex.models["in_market"].score == pytest.approx(top["in_market_score"])
    assert ex.account is not None and ex.account["buying_stage"] == top["buying_stage"]
    assert len(ex.models["in_market"].reasons) == 3
    assert ex.related and "score" in ex.related[0]


def test_loaded_model_scores_like_the_fitted_one(world_store: Store) -> None:
    scoring.train(world_store, scoring.TrainRequest(models=["intent"], rules=RULES))
    model = load(world_store, "intent")
    plan = AccountPlan.from_dict(model.plan)
    when = dt.datetime.fromisoformat(model.card["data_window"]["cutoff"])
    frame = account_feature_query(world_store, plan, when).fetch()
    scores = score_accounts(world_store, {"intent": model}, when, StageThresholds(),
                            FitBuckets())
    np.testing.assert_allclose(scores.set_index("account_id").loc[
        frame["account_id"], "intent_score"].to_numpy(), model.scorer.predict_score(frame))


def test_missing_model_and_store_errors(tmp_path: Path) -> None:
    store = connect(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    with pytest.raises(ModelNotFoundError, match="run `revloop score train in_market` first"):
        load_model(store, "in_market")
    assert MODELS_TABLE not in store.list_tables()
    store.close()
