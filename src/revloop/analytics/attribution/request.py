"""What an attribution run is asked for: the typed requests, checked before any query runs.

* :class:`AttributionRequest` — journeys from the store (level, grouping, metric, windows,
  exclusions) and the models to run on them;
* :class:`PathAttributionRequest` — an aggregated path file (``path, conversions, nulls,
  value``) and the models to run on it.

Both share :class:`ModelChoice`: which models and how (path options, bootstrap, weights).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from revloop.analytics.attribution.catalog import model_names, parse_weights
from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.paths import CLOSED_WON, LEAD_CREATION, OPPORTUNITY_CREATION
from revloop.analytics.contract import Request
from revloop.errors import RevloopError
from revloop.store.queries import json_key_ok

#: Touchpoint columns ``by`` can name directly; anything else is a key of ``properties``.
GROUP_COLUMNS = {"channel": "channel", "campaign": "campaign_id", "campaign_id": "campaign_id",
                 "content": "content_id", "content_id": "content_id",
                 "touch_type": "touch_type", "url": "url"}
_POSITIONAL = {"first", "last", LEAD_CREATION, OPPORTUNITY_CREATION, CLOSED_WON}
#: What a path file's ``metric`` reads: its conversions column, or its value column.
FILE_METRICS = {"conversions": "conversions", "value": "value", "revenue": "value",
                "pipeline": "value"}


def _words(value: object) -> object:
    """A comma list or a list of comma lists as a tuple of words."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        return tuple(w.strip() for v in value for w in str(v).split(",") if w.strip())
    return value


class ModelChoice(Request):
    """Which models run and how (shared by path files and the store)."""

    error: ClassVar[type[RevloopError]] = AttributionError

    models: tuple[str, ...] = Field(
        default=("all",), description="Model names, aliases (first, last, u, w …), markov_2 … "
        "markov_4, or the groups all, heuristics, data_driven")
    markov_order: int = Field(default=1, description="Order of the plain 'markov' model (1–4)")
    half_life: float = Field(default=7.0, gt=0, description="Time-decay half-life")
    half_life_unit: Literal["auto", "days", "touches"] = Field(
        default="auto", description="auto: days when journeys carry timestamps (the store), "
        "touches otherwise (path files)")
    custom_weights: str | None = Field(
        default=None, description="Custom milestone weights, e.g. first=0.3,lead_creation=0.3,"
        "opportunity_creation=0.3,rest=0.1 (any milestone or stage name)")
    direct_channels: tuple[str, ...] = Field(
        default=("direct",), description="Channels last non-direct skips")
    collapse_repeats: bool = Field(default=False, description="Merge consecutive repeats")
    unique_channels: bool = Field(default=False, description="Keep each group once per path")
    exclude_channels: tuple[str, ...] = Field(default=(), description="Channels left out")
    bootstrap: int = Field(default=0, ge=0, le=100_000,
                           description="Bootstrap replicates (0: no intervals)")
    bootstrap_all: bool = Field(default=False,
                                description="Intervals for the rule-based models too")
    confidence: float = Field(default=0.95, gt=0, lt=1, description="Interval confidence")
    seed: int = Field(default=0, description="Bootstrap random seed")

    @field_validator("models", "direct_channels", "exclude_channels", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _words(value)

    @model_validator(mode="after")
    def _check_models(self) -> ModelChoice:
        names = model_names(self.models)  # raises on unknown names
        if not 1 <= self.markov_order <= 4:
            raise AttributionError(f"Markov order must be 1 to 4, got {self.markov_order}",
                                   code="bad_order")
        if "custom" in names:
            if not self.custom_weights:
                raise AttributionError(
                    "the custom model needs --weights, e.g. first=0.3,lead_creation=0.3,"
                    "opportunity_creation=0.3,rest=0.1", code="bad_weights")
            parse_weights(self.custom_weights)  # raises on a malformed weight list
        return self

    @property
    def model_list(self) -> list[str]:
        """The canonical model names, in the order asked for."""
        return model_names(self.models)


class AttributionRequest(ModelChoice):
    """Attribute the store's journeys (after ``revloop build``)."""

    level: Literal["contact", "account"] = Field(
        default="account", description="account: every touch of the buying group; contact: "
        "one person's touches")
    by: str = Field(default="channel", description="Credit channel, campaign, content, "
                    "touch_type, url, or a key of the touchpoints' properties JSON")
    metric: Literal["pipeline", "revenue", "conversions"] = Field(
        default="pipeline", description="pipeline: to opportunity creation; revenue: to the "
        "close of won deals; conversions: to a stage (contact level) or opportunity creation")
    lookback_days: float = Field(default=365.0, description="Touches up to this many days "
                                 "before the milestone count")
    conversion_window_days: float = Field(
        default=90.0, description="Non-converting journeys end this many days before the "
        "data end")
    start: dt.date | None = Field(default=None, description="Milestones on or after")
    end: dt.date | None = Field(default=None, description="Milestones on or before; the data "
                                "end for open journeys")
    conversion_stage: str = Field(default="opportunity", description="Contact-level "
                                  "conversions: the stage a person converts into")
    exclude_touch_types: tuple[str, ...] = Field(default=(), description="Touch types left out")
    method: Literal["arrow", "sql"] = Field(
        default="arrow", description="Where paths are assembled: NumPy (arrow) or the engine")

    @field_validator("exclude_touch_types", mode="before")
    @classmethod
    def _split_types(cls, value: object) -> object:
        return _words(value)

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        if value not in ("contact", "account"):
            raise AttributionError(f"level must be contact or account, got {value!r}",
                                   code="bad_level")
        return value

    @field_validator("metric", mode="before")
    @classmethod
    def _metric(cls, value: object) -> object:
        if value not in ("pipeline", "revenue", "conversions"):
            raise AttributionError(
                f"metric must be pipeline, revenue or conversions, got {value!r}",
                code="bad_metric")
        return value

    @field_validator("by")
    @classmethod
    def _by(cls, value: str) -> str:
        name = value.strip()
        if not name:
            raise AttributionError("--by needs a grouping", code="bad_group")
        key = name.split(":", 1)[1] if name.startswith("property:") else name
        if name not in GROUP_COLUMNS and not json_key_ok(key):
            raise AttributionError(f"property name {key!r}: use up to 200 printable "
                                   "characters without quotes, brackets or backslashes",
                                   code="bad_group")
        return name

    @model_validator(mode="after")
    def _windows(self) -> AttributionRequest:
        if not self.lookback_days > 0:
            raise AttributionError("the lookback window must be positive", code="bad_window")
        if not self.conversion_window_days >= 0:
            raise AttributionError("the conversion window must not be negative",
                                   code="bad_window")
        if self.start and self.end and self.start > self.end:
            raise AttributionError(f"--start {self.start} is after --end {self.end}",
                                   code="bad_window")
        return self

    @property
    def milestone_stages(self) -> tuple[str, ...]:
        """Stage names the custom weights refer to (marked on the touch that led to each)."""
        if not self.custom_weights or "custom" not in self.model_list:
            return ()
        weights, _ = parse_weights(self.custom_weights)
        return tuple(name for name in weights if name not in _POSITIONAL)

    @property
    def stage_view(self) -> bool:
        """Contact-level conversions into a stage (no money: no spend, no truth)."""
        return self.metric == "conversions" and self.level == "contact"


class PathAttributionRequest(ModelChoice):
    """Attribute an aggregated path file (CSV, TSV or Parquet)."""

    file: str = Field(description="The path file")
    metric: str = Field(default="conversions", description="conversions, or value (revenue "
                        "and pipeline read the value column too)")
    sep: str = Field(default=">", description="Separator between the channels of a path")
    delimiter: str | None = Field(default=None, description="CSV field delimiter (default "
                                  "comma; tab for .tsv)")
    path_col: str | None = Field(default=None, description="Column with the path")
    conversions_col: str | None = Field(default=None, description="Column with conversions")
    nulls_col: str | None = Field(default=None, description="Column with non-converting "
                                  "journeys")
    value_col: str | None = Field(default=None, description="Column with the total value")

    @field_validator("file", mode="before")
    @classmethod
    def _file(cls, value: Any) -> Any:
        return str(value) if value is not None else value

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        if value not in FILE_METRICS:
            raise AttributionError(f"metric {value!r} does not apply to a path file; use "
                                   "conversions or value", code="bad_metric")
        return value
