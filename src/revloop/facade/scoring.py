"""Scoring for the interfaces: rule-based lead scores, predictive models, evaluation,
explanations. Each function calls one runner of :mod:`revloop.analytics.scoring.runners`."""

from __future__ import annotations

from pathlib import Path

from revloop.analytics.contract import ProgressHook
from revloop.analytics.scoring.catalog import ACCOUNT_MODELS, resolve_models
from revloop.analytics.scoring.plotting import plot_evaluation
from revloop.analytics.scoring.requests import (
    ApplyRequest,
    CheckRulesRequest,
    EvaluateRequest,
    ExplainRequest,
    ModelsRequest,
    RulesRequest,
    TrainRequest,
)
from revloop.analytics.scoring.results import (
    ApplyResult,
    EvaluateResult,
    Explanation,
    ModelsResult,
    RuleInfo,
    RulesResult,
    RulesSummary,
    ScoredAccounts,
    ScoredModel,
    TrainResult,
)
from revloop.analytics.scoring.runners import apply as apply_runner
from revloop.analytics.scoring.runners import evaluate as evaluate_runner
from revloop.analytics.scoring.runners import explain as explain_runner
from revloop.analytics.scoring.runners import models as models_runner
from revloop.analytics.scoring.runners import rules as rules_runner
from revloop.analytics.scoring.runners import train as train_runner
from revloop.facade.context import context
from revloop.settings import Settings
from revloop.store import Store

__all__ = [
    "ACCOUNT_MODELS",
    "ApplyRequest",
    "ApplyResult",
    "CheckRulesRequest",
    "EvaluateRequest",
    "EvaluateResult",
    "ExplainRequest",
    "Explanation",
    "ModelsRequest",
    "ModelsResult",
    "RuleInfo",
    "RulesRequest",
    "RulesResult",
    "RulesSummary",
    "ScoredAccounts",
    "ScoredModel",
    "TrainRequest",
    "TrainResult",
    "apply",
    "check_rules",
    "evaluate",
    "explain",
    "list_models",
    "plot_evaluations",
    "resolve_models",
    "run_rules",
    "train",
]


def check_rules(request: CheckRulesRequest) -> RulesSummary:
    """Validate a rules file (``RulesFileError`` lists every problem)."""
    return rules_runner.check(None, request, context())


def run_rules(store: Store, request: RulesRequest, *, settings: Settings | None = None,
              progress: ProgressHook | None = None) -> RulesResult:
    """Rule scores as of a date; stored unless asked not to."""
    return rules_runner.run(store, request, context(settings, progress))


def train(store: Store, request: TrainRequest, *, settings: Settings | None = None,
          progress: ProgressHook | None = None) -> TrainResult:
    """Train models; store each as a new version with its model card."""
    return train_runner.run(store, request, context(settings, progress))


def apply(store: Store, request: ApplyRequest, *, settings: Settings | None = None,
          progress: ProgressHook | None = None) -> ApplyResult:
    """Score contacts, open deals and accounts with the latest stored versions."""
    return apply_runner.run(store, request, context(settings, progress))


def evaluate(store: Store, request: EvaluateRequest, *, settings: Settings | None = None,
             progress: ProgressHook | None = None) -> EvaluateResult:
    """Evaluate a model on data it does not learn from (history kept in the store)."""
    return evaluate_runner.run(store, request, context(settings, progress))


def explain(store: Store, request: ExplainRequest, *,
            settings: Settings | None = None) -> Explanation:
    """A record's rule score log and every model's score with its top reasons."""
    return explain_runner.run(store, request, context(settings))


def list_models(store: Store) -> ModelsResult:
    """Every stored model version with its card."""
    return models_runner.run(store, ModelsRequest(), context())


def plot_evaluations(result: EvaluateResult, folder: str | Path) -> list[Path]:
    """Reliability and cumulative-gains plots (PNG and SVG) of every evaluation."""
    return [p for ev in result.evaluations for p in plot_evaluation(ev, folder)]
