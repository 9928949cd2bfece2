"""Evaluate a model on data it does not learn from, and keep a history of evaluations."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa

from revloop.analytics.contract import RunContext
from revloop.analytics.scoring.catalog import (
    ACCOUNT_MODELS,
    CONTACT_FIT,
    OPPORTUNITY_WIN,
    resolve_models,
)
from revloop.analytics.scoring.errors import ScoringError
from revloop.analytics.scoring.evaluation import (
    Evaluation,
    backtest_accounts,
    backtest_opportunity_win,
    cross_validate_contact_fit,
)
from revloop.analytics.scoring.requests import EvaluateRequest
from revloop.analytics.scoring.results import EvaluateResult, EvaluationReport
from revloop.analytics.scoring.runners.common import (
    account_options,
    contact_options,
    opportunity_options,
    rules_or_none,
)
from revloop.store import Store

EVALUATIONS = "scoring_evaluations"
#: The order account evaluations are reported in.
_ACCOUNT_ORDER = ("in_market", "engagement", "intent", "account_fit")


def run(store: Store, request: EvaluateRequest,
        context: RunContext | None = None) -> EvaluateResult:
    """contact: k-fold CV; opportunity: out of time by close date; account models:
    out-of-time backtest against the MQL baseline (and the truth tables when present)."""
    ctx = context or RunContext()
    ctx.progress("evaluate")
    reports = [ev.report() for ev in _evaluations(store, request)]
    _record(store, reports)
    return EvaluateResult(evaluations=reports)


def _evaluations(store: Store, request: EvaluateRequest) -> list[Evaluation]:
    names = resolve_models([request.model])
    rs = rules_or_none(request.rules)
    if names == [CONTACT_FIT]:
        opts = contact_options(rs, request.target_stages, request.exclude)
        return [cross_validate_contact_fit(store, opts, folds=request.folds, rules=rs)]
    if names == [OPPORTUNITY_WIN]:
        return [backtest_opportunity_win(
            store, opportunity_options(rs, request.cutoff, request.exclude))]
    if set(names) <= set(ACCOUNT_MODELS):
        evs = backtest_accounts(store, account_options(rs, request.horizon_days,
                                                       request.exclude),
                                cutoff=request.cutoff, rules=rs,
                                eval_snapshots=request.eval_snapshots)
        everything = len(names) == len(ACCOUNT_MODELS)
        return [evs[n] for n in _ACCOUNT_ORDER if n in evs and (n in names or everything)]
    raise ScoringError("evaluate one model at a time: contact, opportunity, or an account "
                       "model (account-fit, engagement, intent, in-market, accounts)")


def _record(store: Store, reports: list[EvaluationReport]) -> None:
    """Append to ``scoring_evaluations`` (the history of every evaluation run)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    schema = pa.schema([("evaluated_at", pa.timestamp("us")), ("model", pa.string()),
                        ("method", pa.string()), ("metrics", pa.string()),
                        ("evaluation", pa.string())])
    docs = EvaluateResult(reports).to_json()["evaluations"]
    new = pa.table({
        "evaluated_at": [now] * len(docs), "model": [d["model"] for d in docs],
        "method": [d["method"] for d in docs],
        "metrics": [json.dumps(d["metrics"]) for d in docs],
        "evaluation": [json.dumps(d) for d in docs],
    }, schema=schema)
    if EVALUATIONS in store.list_tables():
        old = store.table(EVALUATIONS).to_pyarrow().select(schema.names).cast(schema)
        new = pa.concat_tables([old, new])
    store.write_arrow(EVALUATIONS, new)
