"""Every analytics runner, by name: what the CLI, the REST API and the pages call.

Each entry is a :class:`~revloop.analytics.contract.Runner`: its request and result types
(whose JSON schemas become the API's), the run function, and whether it writes to the store.
"""

from __future__ import annotations

from typing import Any

from revloop.analytics import funnel
from revloop.analytics.attribution import request as attribution_request
from revloop.analytics.attribution import runner as attribution
from revloop.analytics.attribution.result import AttributionResult
from revloop.analytics.contract import ProgressHook, Request, Result, Runner
from revloop.analytics.scoring import requests as scoring_requests
from revloop.analytics.scoring import results as scoring_results
from revloop.analytics.scoring.runners import apply as score_apply
from revloop.analytics.scoring.runners import evaluate as score_evaluate
from revloop.analytics.scoring.runners import explain as score_explain
from revloop.analytics.scoring.runners import models as score_models
from revloop.analytics.scoring.runners import rules as score_rules
from revloop.analytics.scoring.runners import train as score_train
from revloop.errors import ConfigError
from revloop.facade.context import context
from revloop.settings import Settings
from revloop.store import Store

__all__ = ["RUNNERS", "context", "run"]

_LIST: tuple[Runner[Any, Any], ...] = (
    Runner("funnel", "The integrated funnel: conversion, velocity, stalls, cohorts, cuts, "
           "leakage and status", funnel.FunnelRequest, funnel.FunnelResult, funnel.run),
    Runner("attribution", "Credit pipeline and revenue to channels, campaigns and content",
           attribution_request.AttributionRequest, AttributionResult, attribution.run),
    Runner("attribution.paths", "Attribution of an aggregated path file",
           attribution_request.PathAttributionRequest, AttributionResult,
           attribution.run_paths, needs_store=False),
    Runner("scoring.rules.check", "Validate a scoring rules file",
           scoring_requests.CheckRulesRequest, scoring_results.RulesSummary,
           score_rules.check, needs_store=False),
    Runner("scoring.rules", "Rule-based lead scores (fit + decayed engagement) and MQLs",
           scoring_requests.RulesRequest, scoring_results.RulesResult, score_rules.run,
           writes=True),
    Runner("scoring.train", "Train the predictive models and store a version of each",
           scoring_requests.TrainRequest, scoring_results.TrainResult, score_train.run,
           writes=True),
    Runner("scoring.apply", "Score contacts, open deals and accounts (buying stage, 6QA)",
           scoring_requests.ApplyRequest, scoring_results.ApplyResult, score_apply.run,
           writes=True),
    Runner("scoring.evaluate", "Evaluate a model on data it did not learn from",
           scoring_requests.EvaluateRequest, scoring_results.EvaluateResult,
           score_evaluate.run, writes=True),
    Runner("scoring.explain", "Why a contact, account or deal scores what it does",
           scoring_requests.ExplainRequest, scoring_results.Explanation, score_explain.run),
    Runner("scoring.models", "The stored model versions with their cards",
           scoring_requests.ModelsRequest, scoring_results.ModelsResult, score_models.run),
)
RUNNERS: dict[str, Runner[Any, Any]] = {r.name: r for r in _LIST}


def run(name: str, store: Store | None, request: Request, *, settings: Settings | None = None,
        progress: ProgressHook | None = None) -> Result:
    """Run the runner ``name`` on ``request``."""
    runner = RUNNERS.get(name)
    if runner is None:
        raise ConfigError(f"no runner {name!r}; known: {', '.join(RUNNERS)}")
    if not isinstance(request, runner.request):
        raise ConfigError(f"runner {name!r} takes a {runner.request.__name__}, not a "
                          f"{type(request).__name__}")
    result: Result = runner.run(store, request, context(settings, progress))
    return result
