"""What each scoring run is asked for: typed requests, checked before any query runs.

Dates (``as_of``, ``cutoff``) accept ``2024-03-31`` (the start of that day), an ISO date-time
or a datetime; they are kept as naive UTC. ``rules`` names a rules file (see
``examples/scoring.yaml``); when it is not given, ``./scoring.yaml`` is used if it exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, field_validator

from revloop.analytics.contract import Request
from revloop.analytics.scoring.asof import parse_as_of
from revloop.analytics.scoring.catalog import resolve_models
from revloop.analytics.scoring.errors import ScoringError
from revloop.errors import RevloopError

AsOf = Annotated[dt.datetime | None, BeforeValidator(parse_as_of)]


def _text_or_none(value: Any) -> Any:
    return None if value is None else str(value)


def _names(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return value


PathText = Annotated[str | None, BeforeValidator(_text_or_none)]
Names = Annotated[tuple[str, ...], BeforeValidator(_names)]


class ScoringRequest(Request):
    """Base of the scoring requests (errors are :class:`ScoringError`)."""

    error: ClassVar[type[RevloopError]] = ScoringError


class CheckRulesRequest(ScoringRequest):
    """Validate a rules file without scoring anything."""

    rules: Annotated[str, BeforeValidator(str)] = Field(
        default="scoring.yaml", description="The rules file")


class RulesRequest(ScoringRequest):
    """Score contacts with a rules file as of a date."""

    rules: Annotated[str, BeforeValidator(str)] = Field(
        default="scoring.yaml", description="The rules file")
    as_of: AsOf = Field(default=None, description="Default: the day after the data ends")
    contact_ids: Names | None = Field(default=None, description="Only these contacts (then "
                                      "nothing is stored)")
    persist: bool = Field(default=True, description="Write lead_scores, lead_score_log and "
                          "lead_score_groups")
    top: int = Field(default=20, ge=0, le=10_000, description="Top contacts in the result")


class _ModelsRequest(ScoringRequest):
    models: Names = Field(default=("all",), description="contact, opportunity, account-fit, "
                          "engagement, intent, in-market, accounts (the four account models) "
                          "or all")
    rules: PathText = Field(default=None, description="Rules file: its models:, stages: and "
                            "fit_buckets: sections and the MQL baseline")

    @field_validator("models")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        resolve_models(value)  # raises on an unknown name
        return value


class TrainRequest(_ModelsRequest):
    """Train models and store a new version of each."""

    cutoff: AsOf = Field(default=None, description="Learn only from what was known then")
    exclude: Names = Field(default=(), description="Features or custom attributes to leave "
                           "out (added to the rules file's)")
    target_stages: Names = Field(default=(), description="contact_fit outcome stage(s) "
                                 "(default: the rules file's, else customer)")
    horizon_days: int | None = Field(default=None, gt=0, le=3650,
                                     description="In-market horizon (default 90)")
    persist: bool = Field(default=True, description="Store the trained versions")


class ApplyRequest(_ModelsRequest):
    """Score records with the latest stored versions."""

    as_of: AsOf = Field(default=None, description="Default: the day after the data ends")
    persist: bool = Field(default=True, description="Write contact_scores, "
                          "opportunity_scores and account_scores")
    top: int = Field(default=10, ge=0, le=10_000, description="Top records per model")


class EvaluateRequest(ScoringRequest):
    """Evaluate a model on data it does not learn from."""

    model: str = Field(default="contact", description="contact (k-fold CV), opportunity (out "
                       "of time), or an account model: account-fit, engagement, intent, "
                       "in-market, accounts (out-of-time backtest)")
    rules: PathText = Field(default=None, description="MQL baseline, stages, options")
    folds: int = Field(default=5, ge=2, le=20, description="contact: cross-validation folds")
    cutoff: AsOf = Field(default=None, description="Out-of-time split")
    exclude: Names = Field(default=(), description="Features to leave out")
    target_stages: Names = Field(default=(), description="contact_fit outcome stage(s)")
    horizon_days: int | None = Field(default=None, gt=0, le=3650)
    eval_snapshots: int = Field(default=3, ge=1, le=24,
                                description="Account backtest: monthly snapshots")

    @field_validator("model")
    @classmethod
    def _known(cls, value: str) -> str:
        resolve_models([value])
        return value


class ExplainRequest(ScoringRequest):
    """Why a contact, account or deal scores what it does."""

    id: str = Field(min_length=1, description="A contact, account or opportunity id")
    as_of: AsOf = Field(default=None, description="Default: the day after the data ends")
    rules: PathText = Field(default=None, description="Rules file for the rule score")


class ModelsRequest(ScoringRequest):
    """List the stored model versions."""
