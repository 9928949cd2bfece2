"""Evaluation: cross-validation, out-of-time backtests, the MQL baseline, 6QA and truth.

* ``contact_fit`` — stratified k-fold cross-validation; every fold model calibrates itself
  on its own training rows only (cross-fitting inside the fold), so the held-out fold is
  never seen by the booster nor by the calibrator.
* ``opportunity_win`` — out of time: train on deals closed before the cut-off, score the
  deals closed on or after it.
* account models — out of time: train on snapshots whose label windows end by the cut-off,
  score monthly snapshots from the cut-off on (each with a complete label window), against
  the MQL-threshold baseline (an account is "MQL" when one of its contacts' rule score is at
  or over the threshold at the snapshot); 6QA vs MQL rates; and, when the store holds the
  generator's ``truth_in_market_windows`` / ``truth_accounts``, AUC against the truth and the
  truth's ceiling.

Ranking metrics (AUC, PR-AUC, lift) use the model margin; calibration metrics (ECE, Brier)
use the calibrated probability. Pooled metrics are over every held-out row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from revloop.analytics.scoring import metrics
from revloop.analytics.scoring.asof import data_end, data_start
from revloop.analytics.scoring.buckets import buying_stage, fit_bucket, is_6qa
from revloop.analytics.scoring.errors import ScoringError
from revloop.analytics.scoring.estimator import GradientBoostedScorer
from revloop.analytics.scoring.features_account import (
    ACTIVITY_AGE,
    AccountPlan,
    account_feature_query,
    plan_account_features,
)
from revloop.analytics.scoring.model_card import bucket_table
from revloop.analytics.scoring.results import EvaluationReport, GainsPoint
from revloop.analytics.scoring.rules import FitBuckets, RuleSet, StageThresholds
from revloop.analytics.scoring.rules_engine import score_rules
from revloop.analytics.scoring.training import (
    AccountOptions,
    ContactFitOptions,
    OpportunityOptions,
    TrainedModel,
    account_frame,
    contact_fit_frame,
    eligible,
    opportunity_frame,
    train_account_models,
)
from revloop.store import Store
from revloop.store.queries import flag_as_int


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _clean_dict(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _clean(v) for k, v in d.items()}


@dataclass
class Predictions:
    """Held-out rows: outcome, margin, calibrated probability, 0–100 score."""

    y: NDArray[np.float64]
    margin: NDArray[np.float64]
    probability: NDArray[np.float64]
    score: NDArray[np.float64]


@dataclass
class Evaluation:
    """How one model did on data it did not learn from."""

    model: str
    method: str
    window: dict[str, Any]
    metrics: dict[str, Any]
    reliability: list[dict[str, Any]]
    buckets: list[dict[str, Any]]
    folds: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, Any] | None = None
    comparison: dict[str, Any] = field(default_factory=dict)
    truth: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    predictions: Predictions | None = None

    def report(self) -> EvaluationReport:
        """The evaluation as its JSON-ready report (the gains curve at 101 points)."""
        return EvaluationReport(
            model=self.model, method=self.method, window=self.window,
            metrics=_clean_dict(self.metrics), folds=self.folds,
            reliability=self.reliability, buckets=self.buckets,
            gains=gains_curve(self.predictions), baseline=self.baseline,
            comparison=self.comparison, truth=self.truth, notes=self.notes,
            definitions=DEFINITIONS,
        )


DEFINITIONS = {
    "auc": "ROC AUC of the model margin (ties count half)",
    "pr_auc": "average precision (step-wise area under precision–recall)",
    "lift_top_decile": "positive rate in the top 10% of margins / overall rate",
    "ece": f"expected calibration error, {metrics.ECE_BINS} equal-width probability bins: "
           "Σ (n_b/n)·|observed rate_b − mean probability_b|",
    "brier": "mean squared error of the calibrated probability",
}


def gains_curve(pred: Predictions | None, points: int = 101) -> list[GainsPoint]:
    """Cumulative gains: the share of positives among the best-scored share of records, at
    ``points`` evenly spaced shares (0 and 1 included)."""
    if pred is None or not len(pred.y):
        return []
    order = np.argsort(-pred.margin, kind="stable")
    hits = np.concatenate(([0.0], np.cumsum(pred.y[order])))
    total = max(float(pred.y.sum()), 1.0)
    shares = np.linspace(0.0, 1.0, points)
    taken = np.ceil(shares * len(order) - 1e-9).astype(np.int64)
    return [GainsPoint(share=round(float(s), 4), found=round(float(hits[k]) / total, 6))
            for s, k in zip(shares, taken, strict=True)]


def _evaluation(model: str, method: str, window: dict[str, Any], pred: Predictions,
                **extra: Any) -> Evaluation:
    m = metrics.summary(pred.y, pred.probability, score=pred.margin)
    rel = [{"low": b.low, "high": b.high, "count": b.count,
            "mean_probability": round(b.mean_probability, 5),
            "observed_rate": round(b.observed_rate, 5)}
           for b in metrics.reliability(pred.y, pred.probability)]
    return Evaluation(model=model, method=method, window=window, metrics=m, reliability=rel,
                      buckets=bucket_table(pred.y, pred.score), predictions=pred, **extra)


def _predict(scorer: GradientBoostedScorer, frame: pd.DataFrame,
             y: NDArray[np.float64]) -> Predictions:
    margin, prob, score = scorer.predict_all(frame)
    return Predictions(y, margin, prob, score)


def _concat(parts: Sequence[Predictions]) -> Predictions:
    return Predictions(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("y", "margin", "probability", "score")))


# ----------------------------------------------------------------------------- contacts

def cross_validate_contact_fit(store: Store, options: ContactFitOptions, folds: int = 5,
                               seed: int = 0, rules: RuleSet | None = None,
                               as_of: dt.datetime | None = None) -> Evaluation:
    """k-fold cross-validation of the contact fit model (calibration inside each fold)."""
    from sklearn.model_selection import StratifiedKFold

    frame, plan, query = contact_fit_frame(store, options)
    y = frame["label"].to_numpy(dtype=np.float64)
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    parts = []
    fold_rows = []
    order = []
    for k, (tr, te) in enumerate(skf.split(frame, y.astype(int))):
        scorer = GradientBoostedScorer(**options.params).fit(frame.iloc[tr], y[tr],
                                                             query.specs)
        pred = _predict(scorer, frame.iloc[te], y[te])
        parts.append(pred)
        order.append(te)
        fm = metrics.summary(pred.y, pred.probability, score=pred.margin)
        fold_rows.append({"fold": k + 1, **_clean_dict({x: fm[x] for x in (
            "n", "positives", "auc", "pr_auc", "ece", "brier")})})
    pooled = _concat(parts)
    aucs = np.array([f["auc"] for f in fold_rows], dtype=np.float64)
    ev = _evaluation(
        "contact_fit", f"{folds}-fold stratified cross-validation", {
            "contacts": len(frame), "target": list(options.target_stages),
            "excluded": [e.name for e in plan.custom.excluded + plan.excluded]},
        pooled, folds=fold_rows,
        notes=[f"AUC per fold: {', '.join(f'{a:.4f}' for a in aucs)}; mean {aucs.mean():.4f}"
               f" ± {aucs.std(ddof=1) if len(aucs) > 1 else 0.0:.4f}"],
    )
    ev.metrics["auc_mean_of_folds"] = float(aucs.mean())
    if rules is not None:
        ids = frame["contact_id"].to_numpy()[np.concatenate(order)]
        ev.baseline = _contact_rule_baseline(store, rules, as_of, ids, pooled.y)
    return ev


def _contact_rule_baseline(store: Store, rules: RuleSet, as_of: dt.datetime | None,
                           ids: NDArray[Any], y: NDArray[np.float64]) -> dict[str, Any]:
    from revloop.analytics.scoring.asof import default_as_of

    when = as_of or default_as_of(store)
    scores = score_rules(store, rules, when).scores.select(
        "contact_id", "score", "is_mql").to_pyarrow().to_pandas().set_index("contact_id")
    s = scores.reindex(ids)
    points = s["score"].fillna(0.0).to_numpy(dtype=np.float64)
    flag = s["is_mql"].fillna(False).to_numpy(dtype=bool)
    return {"name": f"rule score of {rules.path} (MQL at {rules.mql_threshold})",
            "as_of": when.isoformat(),
            "ranking": _clean_dict(metrics.ranking_summary(y, points)),
            "mql_flag": _clean_dict(metrics.flag_summary(y, flag))}


# ----------------------------------------------------------------------------- deals

def backtest_opportunity_win(store: Store, options: OpportunityOptions) -> Evaluation:
    """Out of time: train on deals closed before the cut-off, score those closed after."""
    frame, _, query = opportunity_frame(store, exclude=options.exclude)
    closes = frame["_close_date"]
    cutoff = options.cutoff
    if cutoff is None:  # 70% of the closed deals before it
        q = closes.quantile(0.7)
        cutoff = dt.datetime(q.year, q.month, 1)
    cut = pd.Timestamp(cutoff.date())
    train, test = frame[closes < cut], frame[closes >= cut]
    if train["label"].nunique() < 2 or test["label"].nunique() < 2:
        raise ScoringError(f"cut-off {cutoff:%Y-%m-%d} leaves {len(train):,} deals to train on "
                           f"and {len(test):,} to test; each needs won and lost deals")
    scorer = GradientBoostedScorer(**options.params).fit(
        train, train["label"].to_numpy(dtype=np.float64), query.specs,
        groups=train["opportunity_id"].to_numpy())
    y = test["label"].to_numpy(dtype=np.float64)
    pred = _predict(scorer, test, y)
    window: dict[str, Any] = {"cutoff": cutoff.isoformat(), "train_rows": len(train),
              "train_first_close": str(closes[closes < cut].min().date()),
              "test_rows": len(test), "test_last_close": str(closes.max().date()),
              "train_win_rate": float(train["label"].mean())}
    rate = test["owner_win_rate_before"].to_numpy(dtype=np.float64) \
        if "owner_win_rate_before" in test.columns else np.full(len(test), np.nan)
    baseline = {
        "name": "the owner's win rate before the deal (missing = overall training rate)",
        "ranking": _clean_dict(metrics.ranking_summary(
            y, np.where(np.isnan(rate), train["label"].mean(), rate))),
    }
    top = sorted(scorer.importance_.items(), key=lambda kv: -kv[1])[:5]
    at_creation = test["_snapshot_days"].to_numpy() == 0
    created = metrics.summary(y[at_creation], pred.probability[at_creation],
                              score=pred.margin[at_creation])
    window["test_deals_distinct"] = int(test["opportunity_id"].nunique())
    ev = _evaluation("opportunity_win", "out-of-time backtest (by close date); rows are deal "
                     "snapshots at creation and every 30 days while open", window, pred,
                     baseline=baseline,
                     notes=["most important features: " + ", ".join(
                         f"{k} ({v:.0%})" for k, v in top),
                         f"at creation only ({created['n']:,} deals): AUC "
                         f"{created['auc']:.4f}, ECE {created['ece']:.4f}"])
    ev.comparison = {"at_creation": _clean_dict(created)}
    return ev


# ----------------------------------------------------------------------------- accounts

@dataclass(frozen=True)
class BacktestPlan:
    """Cut-off and the evaluation snapshots of an account backtest."""

    cutoff: dt.datetime
    snapshots: list[dt.datetime]


def plan_backtest(store: Store, options: AccountOptions, cutoff: dt.datetime | None,
                  eval_snapshots: int = 3) -> BacktestPlan:
    """Evaluation snapshots from the cut-off on, each with a complete label window."""
    end = data_end(store)
    start = data_start(store)
    if end is None or start is None:
        raise ScoringError("the store holds no dated activity")
    last_ok = dt.datetime(end.year, end.month, end.day) + dt.timedelta(days=1) - dt.timedelta(
        days=options.horizon_days)
    if cutoff is None:
        cutoff = last_ok - dt.timedelta(days=options.step_days * (eval_snapshots - 1))
        cutoff = dt.datetime(cutoff.year, cutoff.month, cutoff.day)
    snaps: list[dt.datetime] = []
    when = cutoff
    while when <= last_ok and len(snaps) < eval_snapshots:
        snaps.append(when)
        when += dt.timedelta(days=options.step_days)
    if not snaps:
        raise ScoringError(f"cut-off {cutoff:%Y-%m-%d} leaves no complete {options.horizon_days}"
                           f"-day window before the data ends ({end:%Y-%m-%d})")
    return BacktestPlan(cutoff, snaps)


def _truth_tables(store: Store) -> bool:
    present = set(store.list_tables())
    return {"truth_in_market_windows", "truth_accounts"} <= present


def _mql_accounts(store: Store, rules: RuleSet, as_of: dt.datetime) -> pd.DataFrame:
    s = score_rules(store, rules, as_of).scores
    s = s.filter(s.account_id.notnull())
    agg = s.group_by("account_id").agg(rule_score=s.score.max(),
                                       mql=flag_as_int(s.is_mql).max())
    return agg.to_pyarrow().to_pandas()


def _truth_labels(store: Store, as_of: dt.datetime, horizon_days: int) -> pd.DataFrame:
    """account_id → 1 when a true in-market window overlaps [as_of, as_of + horizon)."""
    from revloop.store.queries import timestamp_literal

    w = store.table("truth_in_market_windows")
    end = as_of + dt.timedelta(days=horizon_days)
    hit = w.filter((w.window_start < timestamp_literal(end))
                   & (w.window_end >= timestamp_literal(as_of)))
    out: pd.DataFrame = hit.select("account_id").distinct().to_pyarrow().to_pandas()
    out["truth"] = 1
    return out


def backtest_accounts(store: Store, options: AccountOptions, *,
                      cutoff: dt.datetime | None = None, rules: RuleSet | None = None,
                      stages: StageThresholds | None = None,
                      fit_buckets: FitBuckets | None = None, eval_snapshots: int = 3,
                      models: dict[str, TrainedModel] | None = None) -> dict[str, Evaluation]:
    """Out-of-time backtest of the account models; 6QA vs MQL; truth when present."""
    bt = plan_backtest(store, options, cutoff, eval_snapshots)
    stages = stages or (rules.stages if rules else StageThresholds())
    fit_buckets = fit_buckets or (rules.fit_buckets if rules else FitBuckets())
    plan = plan_account_features(store, options.exclude)
    trained = models or train_account_models(store, bt.cutoff, options, plan=plan)
    plan = AccountPlan.from_dict(trained["in_market"].plan)
    rows = account_frame(store, plan, bt.snapshots, options)
    population = eligible(rows, options).reset_index(drop=True)
    y = population["label"].to_numpy(dtype=np.float64)
    window = {"cutoff": bt.cutoff.isoformat(),
              "snapshots": [s.isoformat() for s in bt.snapshots],
              "horizon_days": options.horizon_days,
              "train_snapshots": trained["in_market"].card["data_window"].get("snapshots"),
              "population": trained["in_market"].card["population"],
              "rows": len(population), "positives": int(y.sum())}
    out: dict[str, Evaluation] = {}
    preds: dict[str, Predictions] = {}
    for name in ("engagement", "intent", "in_market"):
        if name in trained:
            preds[name] = _predict(trained[name].scorer, population, y)
            out[name] = _evaluation(name, "out-of-time backtest", window, preds[name])
    fit = trained["account_fit"].scorer
    fit_scores = fit.predict_score(population)
    fit_level = fit_bucket(fit_scores, fit_buckets)
    in_market = preds["in_market"]
    active = population[ACTIVITY_AGE].to_numpy(dtype=np.float64) < stages.activity_days
    stage = buying_stage(in_market.probability, active, stages)
    qa = is_6qa(fit_level, stage)
    comparison: dict[str, Any] = {
        "6qa": _clean_dict(metrics.flag_summary(y, qa)),
        "stages": {s: {"rows": int((stage == s).sum()),
                       "rate": _clean(float(y[stage == s].mean())) if (stage == s).any()
                       else None}
                   for s in ("Target", "Awareness", "Consideration", "Decision", "Purchase")},
        "fit": {b: {"rows": int((fit_level == b).sum()),
                    "rate": _clean(float(y[fit_level == b].mean()))
                    if (fit_level == b).any() else None}
                for b in ("strong", "moderate", "weak")},
        "stage_thresholds": stages.__dict__, "fit_buckets": fit_buckets.__dict__,
    }
    if "funnel.mql_90d" in population.columns:
        # the MQLs the funnel itself recorded (a person reached `mql` in the 90 days before)
        recorded = population["funnel.mql_90d"].to_numpy(dtype=np.float64) > 0
        comparison["recorded_mql"] = _clean_dict(metrics.flag_summary(y, recorded))
        rec_rate = comparison["recorded_mql"]["rate"]
        flagged_rate = comparison["6qa"]["rate"]
        comparison["6qa_vs_recorded_mql_rate_ratio"] = _clean(
            flagged_rate / rec_rate if flagged_rate is not None and rec_rate else float("nan"))
    baseline: dict[str, Any] | None = None
    if rules is not None:
        parts = []
        for when in bt.snapshots:
            mql = _mql_accounts(store, rules, when)
            mql["as_of"] = pd.Timestamp(when)
            parts.append(mql)
        mql_all = pd.concat(parts, ignore_index=True)
        merged = population[["account_id", "as_of"]].merge(mql_all, on=["account_id", "as_of"],
                                                           how="left")
        points = merged["rule_score"].fillna(0.0).to_numpy(dtype=np.float64)
        flag = merged["mql"].fillna(0).to_numpy(dtype=np.float64) > 0
        baseline = {
            "name": f"MQL threshold of {rules.path}: an account with a contact whose rule score"
                    f" is ≥ {rules.mql_threshold}",
            "ranking": _clean_dict(metrics.ranking_summary(y, points)),
            "mql_flag": _clean_dict(metrics.flag_summary(y, flag)),
        }
        mql_rate = metrics.flag_summary(y, flag)["rate"]
        qa_rate = comparison["6qa"]["rate"]
        comparison["6qa_vs_mql_rate_ratio"] = _clean(
            qa_rate / mql_rate if qa_rate is not None and mql_rate else float("nan"))
        for ev in out.values():
            ev.baseline = baseline
    in_market_ev = out["in_market"]
    in_market_ev.comparison = comparison
    truth = None
    if _truth_tables(store):
        truth = _truth_evaluation(store, population, in_market, fit_scores, qa, options,
                                  bt.snapshots, baseline)
        in_market_ev.truth = truth
    out["account_fit"] = _fit_backtest(store, trained["account_fit"], plan, bt, options)
    if truth is not None and "fit_vs_truth_auc" in truth:
        out["account_fit"].truth = {"fit_vs_truth_auc": truth["fit_vs_truth_auc"]}
    return out


def _truth_evaluation(store: Store, population: pd.DataFrame, in_market: Predictions,
                      fit_scores: NDArray[np.float64], qa: NDArray[np.bool_],
                      options: AccountOptions, snapshots: Sequence[dt.datetime],
                      baseline: dict[str, Any] | None) -> dict[str, Any]:
    parts = []
    for when in snapshots:
        t = _truth_labels(store, when, options.horizon_days)
        t["as_of"] = pd.Timestamp(when)
        parts.append(t)
    truth = population[["account_id", "as_of"]].merge(pd.concat(parts, ignore_index=True),
                                                       on=["account_id", "as_of"], how="left")
    true_in = truth["truth"].fillna(0).to_numpy(dtype=np.float64)
    y = in_market.y
    out: dict[str, Any] = {
        "definition": "truly in market: a truth_in_market_windows window overlaps "
                      f"[snapshot, snapshot + {options.horizon_days} days)",
        "in_market_auc_vs_truth": _clean(metrics.auc(true_in, in_market.margin)),
        "truly_in_market_share": _clean(float(true_in.mean())),
        "6qa_truly_in_market": _clean(float(true_in[qa].mean())) if qa.any() else None,
        "opportunity_rate_truly_in_market": _clean(float(y[true_in == 1].mean()))
        if true_in.any() else None,
    }
    if baseline is not None:
        mql_rate = baseline["mql_flag"]["rate"]
        if mql_rate and out["opportunity_rate_truly_in_market"] is not None:
            out["ceiling_ratio_vs_mql"] = _clean(out["opportunity_rate_truly_in_market"]
                                                 / mql_rate)
    accounts = store.table("truth_accounts").select("account_id", "icp_fit").to_pyarrow()
    fit_truth = population[["account_id"]].merge(accounts.to_pandas(), on="account_id",
                                                 how="left")
    high = (fit_truth["icp_fit"].astype("string").str.lower() == "high").to_numpy(
        dtype=np.float64, na_value=0.0)
    if 0 < high.sum() < len(high):
        out["fit_vs_truth_auc"] = _clean(metrics.auc(high, fit_scores))
    return out


def _fit_backtest(store: Store, model: TrainedModel, plan: AccountPlan, bt: BacktestPlan,
                  options: AccountOptions) -> Evaluation:
    """Fit out of time: accounts with no deal before the cut-off; did they open one after?"""
    from revloop.analytics.scoring.features_account import fit_labels

    end = data_end(store)
    assert end is not None
    after = end + dt.timedelta(days=1)
    rows = account_feature_query(store, plan, bt.cutoff).fetch()
    before = fit_labels(store, bt.cutoff, "opened").to_pyarrow().to_pandas()
    fresh = rows[~rows["account_id"].isin(before["account_id"])].reset_index(drop=True)
    o = fit_labels(store, after, options.fit_label).to_pyarrow().to_pandas()
    y = fresh["account_id"].isin(o["account_id"]).to_numpy(dtype=np.float64)
    pred = _predict(model.scorer, fresh, y)
    window = {"cutoff": bt.cutoff.isoformat(), "until": after.isoformat(),
              "population": "accounts with no deal before the cut-off",
              "rows": len(fresh), "positives": int(y.sum())}
    return _evaluation("account_fit", f"out-of-time backtest ({options.fit_label} a deal after "
                                      "the cut-off)", window, pred)
