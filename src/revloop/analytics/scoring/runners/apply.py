"""Score contacts, open deals and accounts with the latest stored versions."""

from __future__ import annotations

from typing import Any

from revloop.analytics.contract import RunContext
from revloop.analytics.scoring import apply as scoring
from revloop.analytics.scoring.catalog import (
    ACCOUNT_MODELS,
    CONTACT_FIT,
    OPPORTUNITY_WIN,
    named_explicitly,
    resolve_models,
)
from revloop.analytics.scoring.errors import ModelNotFoundError
from revloop.analytics.scoring.requests import ApplyRequest
from revloop.analytics.scoring.results import ApplyResult, ScoredAccounts, ScoredModel
from revloop.analytics.scoring.rules import FitBuckets, RuleSet, StageThresholds
from revloop.analytics.scoring.runners.common import as_of_or_default, records, rules_or_none
from revloop.store import Store


def load_models(store: Store, names: list[str], explicit: bool,
                skipped: dict[str, str]) -> dict[str, scoring.LoadedModel]:
    """The latest stored version of each model; one not trained is an error when named
    explicitly, otherwise skipped with the reason."""
    loaded: dict[str, scoring.LoadedModel] = {}
    for name in names:
        try:
            loaded[name] = scoring.load(store, name)
        except ModelNotFoundError as exc:
            if explicit:
                raise
            skipped[name] = exc.message
    return loaded


def run(store: Store, request: ApplyRequest, context: RunContext | None = None) -> ApplyResult:
    """Score with every requested model; store contact_scores / opportunity_scores /
    account_scores unless asked not to."""
    ctx = context or RunContext()
    as_of = as_of_or_default(store, request.as_of)
    skipped: dict[str, str] = {}
    loaded = load_models(store, resolve_models(request.models),
                         named_explicitly(request.models), skipped)
    stored: list[str] = []
    contact = opportunity = None
    if CONTACT_FIT in loaded:
        ctx.progress(CONTACT_FIT)
        frame = scoring.score_contacts(store, loaded[CONTACT_FIT], as_of)
        contact = _scored(store, frame, "contact_id", loaded[CONTACT_FIT], request,
                          scoring.CONTACT_SCORES, stored)
    if OPPORTUNITY_WIN in loaded:
        ctx.progress(OPPORTUNITY_WIN)
        frame = scoring.score_opportunities(store, loaded[OPPORTUNITY_WIN], as_of)
        opportunity = _scored(store, frame, "opportunity_id", loaded[OPPORTUNITY_WIN], request,
                              scoring.OPPORTUNITY_SCORES, stored)
    account_models = {n: m for n, m in loaded.items() if n in ACCOUNT_MODELS}
    accounts = None
    if account_models:
        ctx.progress("accounts")
        accounts = _accounts(store, account_models, request, as_of, stored)
    return ApplyResult(as_of=as_of, contact_fit=contact, opportunity_win=opportunity,
                       accounts=accounts, stored=stored, skipped=skipped)


def _scored(store: Store, frame: Any, key: str, model: scoring.LoadedModel,
            request: ApplyRequest, table: str, stored: list[str]) -> ScoredModel:
    frame = frame.sort_values(["score", key], ascending=[False, True])
    if request.persist:
        store.write_arrow(table, scoring.to_arrow(frame))
        stored.append(table)
    return ScoredModel(
        model=model.model_id, rows=len(frame),
        buckets={k: int(v) for k, v in frame["bucket"].value_counts().sort_index().items()},
        top=records(frame, request.top))


def stage_settings(rs: RuleSet | None) -> tuple[StageThresholds, FitBuckets]:
    """Buying-stage thresholds and fit buckets of the rules file, else the defaults."""
    return (rs.stages, rs.fit_buckets) if rs else (StageThresholds(), FitBuckets())


def _accounts(store: Store, models: dict[str, scoring.LoadedModel], request: ApplyRequest,
              as_of: Any, stored: list[str]) -> ScoredAccounts:
    stages, buckets = stage_settings(rules_or_none(request.rules))
    frame = scoring.score_accounts(store, models, as_of, stages, buckets)
    sort = "in_market_score" if "in_market" in models else f"{next(iter(models))}_score"
    frame = frame.sort_values([sort, "account_id"], ascending=[False, True])
    if request.persist:
        store.write_arrow(scoring.ACCOUNT_SCORES, scoring.to_arrow(frame))
        stored.append(scoring.ACCOUNT_SCORES)

    def counts(column: str) -> dict[str, int] | None:
        if column not in frame.columns:
            return None
        return {str(k): int(v) for k, v in frame[column].value_counts().items()}

    return ScoredAccounts(
        rows=len(frame), models={n: m.model_id for n, m in models.items()},
        buying_stages=counts("buying_stage"),
        six_qa=int(frame["is_6qa"].sum()) if "is_6qa" in frame.columns else None,
        fit_levels=counts("fit_level"), top=records(frame, request.top))
