"""What a validated rules file becomes: frozen dataclasses and the vocabulary of the format."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from revloop.analytics.scoring.catalog import ALL_MODELS
from revloop.schema import ColumnType

DEFAULT_GROUP = "general"

# Operators of a condition, with the kind of value each takes.
STRING_OPS = ("contains", "starts_with", "ends_with", "matches")
NUMERIC_OPS = ("gt", "gte", "lt", "lte", "between")
OPERATORS = ("equals", "not_equals", "in", "not_in", *STRING_OPS, *NUMERIC_OPS, "exists")

# Set-valued account fields (one account, many technologies): field name → column.
TECHNOLOGY_FIELDS = {"technology": "technology", "technology_category": "category"}

# Engagement shorthands: rule keys that stand for a condition on the touch.
ENGAGEMENT_SHORTHANDS = ("touch_type", "channel", "campaign", "content", "url")

#: The models a ``models:`` section may configure.
MODEL_NAMES = ALL_MODELS


@dataclass(frozen=True)
class Condition:
    """One test on one field: ``account.industry in [software, saas]``."""

    field: str  # as written in the file
    scope: str  # contact | account | touch | campaign | content
    column: str  # canonical column, derived field, technology field, or the custom key
    custom: bool  # ``column`` is a key of the scope's JSON bag
    kind: ColumnType  # logical type of the field (custom keys: STRING, read as text)
    op: str
    value: Any
    case_sensitive: bool = False
    technology: bool = False  # a set-valued account field (any technology matches)
    alternatives: tuple[str, ...] = ()  # shorthands matching several columns (campaign: id/name)

    def describe(self) -> str:
        """The condition as a reader writes it."""
        def show(v: Any) -> str:
            if isinstance(v, float):
                return f"{v:g}"
            if isinstance(v, dt.datetime):
                return v.isoformat()
            return str(v).lower() if isinstance(v, bool) else str(v)

        value = self.value
        text = ("[" + ", ".join(show(v) for v in value) + "]"
                if isinstance(value, list | tuple) else show(value))
        return f"{self.field} {self.op} {text}"


@dataclass(frozen=True)
class Rule:
    """A scoring rule: conditions, points, how often it counts and how it fades."""

    name: str
    kind: str  # "fit" (what the person/account is) or "engagement" (what they do)
    points: float
    group: str
    conditions: tuple[Condition, ...]
    match_any: bool = False  # conditions joined with OR instead of AND
    once: bool = True  # fit rules always count once
    cap: float | None = None  # the rule adds at most +cap (or at least −cap when negative)
    half_life_days: float | None = None  # None: no decay
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class Group:
    """A score group (e.g. one product line): its own total, cap, floor and MQL threshold."""

    name: str
    cap: float | None = None
    floor: float | None = None
    mql_threshold: float | None = None
    description: str = ""


@dataclass(frozen=True)
class StageThresholds:
    """Cut points of the buying stages on the in-market probability, in percent (the
    calibrated chance of opening an opportunity within the horizon); see docs/scoring.md."""

    consideration: float = 5.0
    decision: float = 20.0
    purchase: float = 50.0
    activity_days: int = 90  # no touch and no intent in this many days → Target


@dataclass(frozen=True)
class FitBuckets:
    """Account fit score (0–100) cut points of strong and moderate fit."""

    strong: float = 70.0
    moderate: float = 40.0


@dataclass(frozen=True)
class ModelOptions:
    """Per-model options of the ``models:`` section."""

    exclude: tuple[str, ...] = ()
    target_stages: tuple[str, ...] = ()
    horizon_days: int | None = None
    label: str | None = None  # account_fit: opened | won


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file."""

    path: str
    name: str
    mql_threshold: float | None
    groups: dict[str, Group]
    rules: tuple[Rule, ...]
    content_hash: str
    stages: StageThresholds = field(default_factory=StageThresholds)
    fit_buckets: FitBuckets = field(default_factory=FitBuckets)
    models: dict[str, ModelOptions] = field(default_factory=dict)

    @property
    def fit_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind == "fit")

    @property
    def engagement_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind == "engagement")

    def model_options(self, name: str) -> ModelOptions:
        """Options of model ``name`` (defaults when the file does not mention it)."""
        return self.models.get(name, ModelOptions())
