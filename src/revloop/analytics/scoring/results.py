"""The typed results of the scoring runners (JSON via :meth:`Result.to_json`).

Model cards and evaluations are documents with many optional parts (per model family,
with or without the generator's truth); they stay JSON objects inside the typed results.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from revloop.analytics.contract import Result


@dataclass
class RuleInfo:
    """One rule of a validated rules file."""

    name: str
    kind: str  # fit | engagement
    group: str
    points: float
    once: bool
    cap: float | None
    half_life_days: float | None
    conditions: list[str]  # as a reader writes them
    match: str  # all | any
    line: int


@dataclass
class RulesSummary(Result):
    """What a rules file says, after validation."""

    path: str
    name: str
    content_hash: str
    mql_threshold: float | None
    groups: list[dict[str, Any]]
    rules: list[RuleInfo]


@dataclass
class RuleFiring:
    """How often one rule fired and what it adds up to now."""

    rule: str
    kind: str
    group: str
    points: float
    fired: int
    contacts: int
    effective_points: float


@dataclass
class RulesResult(Result):
    """Rule scores of one run: totals, per-rule figures and the top contacts."""

    rules_file: str
    rules_name: str
    rules_hash: str
    mql_threshold: float | None
    as_of: dt.datetime
    contacts: int
    mqls: int
    events: int
    by_rule: list[RuleFiring]
    top: list[dict[str, Any]]
    stored: list[str] = field(default_factory=list)  # tables written to the store


@dataclass
class TrainResult(Result):
    """The stored versions (their model cards) and the models skipped, with the reason."""

    trained: list[dict[str, Any]]
    skipped: dict[str, str]


@dataclass
class ModelVersion:
    """One stored model version with its card."""

    model_id: str
    name: str
    version: int
    created_at: dt.datetime
    card: dict[str, Any]


@dataclass
class ModelsResult(Result):
    """Every stored model version, newest first."""

    models: list[ModelVersion]


@dataclass
class ScoredModel:
    """Scores of contacts or deals by one model: how many, per bucket, the top records."""

    model: str
    rows: int
    buckets: dict[str, int]
    top: list[dict[str, Any]]


@dataclass
class ScoredAccounts:
    """Scores of accounts by the account models, with buying stages and 6QA."""

    rows: int
    models: dict[str, str]  # model name → stored version id
    buying_stages: dict[str, int] | None
    six_qa: int | None
    fit_levels: dict[str, int] | None
    top: list[dict[str, Any]]


@dataclass
class ApplyResult(Result):
    """Per model family: the scores' summary; the tables stored; the models skipped."""

    as_of: dt.datetime
    contact_fit: ScoredModel | None
    opportunity_win: ScoredModel | None
    accounts: ScoredAccounts | None
    stored: list[str]  # tables written to the store
    skipped: dict[str, str]


@dataclass
class GainsPoint:
    """One point of the cumulative gains curve: best-scored share → share of positives."""

    share: float
    found: float


@dataclass
class EvaluationReport:
    """How one model did on data it did not learn from."""

    model: str
    method: str
    window: dict[str, Any]
    metrics: dict[str, Any]
    folds: list[dict[str, Any]]
    reliability: list[dict[str, Any]]
    buckets: list[dict[str, Any]]
    gains: list[GainsPoint]
    baseline: dict[str, Any] | None
    comparison: dict[str, Any]
    truth: dict[str, Any] | None
    notes: list[str]
    definitions: dict[str, str]


@dataclass
class EvaluateResult(Result):
    """One evaluation per model evaluated (also appended to ``scoring_evaluations``)."""

    evaluations: list[EvaluationReport]


@dataclass
class ModelExplanation:
    """One model's score of a record and its top reasons."""

    model: str
    probability: float
    score: float
    bucket: str
    reasons: list[dict[str, Any]]


@dataclass
class Explanation(Result):
    """Everything known about one record's scores."""

    id: str
    kind: str  # contact | account | opportunity
    as_of: dt.datetime
    rule_score: dict[str, Any] | None
    models: dict[str, ModelExplanation]
    account: dict[str, Any] | None  # fit level, buying stage, 6QA … of an account
    related: list[dict[str, Any]]
    notes: list[str]
