"""The typed result of an attribution run, its JSON form and its tables (for export)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from revloop.analytics.attribution.compare import Comparison
from revloop.analytics.contract import Result, rows_table


@dataclass
class CreditRow:
    """One group's credit under one model (``*_ci``: the bootstrap interval, when run)."""

    group: str
    conversions: float
    value: float
    share: float  # of the conversions
    value_share: float  # of the value
    conversions_ci: tuple[float, float] | None = None
    value_ci: tuple[float, float] | None = None
    share_ci: tuple[float, float] | None = None


@dataclass
class BootstrapInfo:
    """How the intervals of a model were made."""

    replicates: int
    confidence: float


@dataclass
class ModelCredits:
    """One model's credits, per group in the result's group order."""

    model: str
    data_driven: bool
    total_conversions: float
    total_value: float
    reconciles: bool  # the credits add up to the totals they split
    credits: list[CreditRow]
    details: dict[str, Any]
    seconds: float
    bootstrap: BootstrapInfo | None = None

    def column(self, metric: str) -> list[float]:
        """``conversions`` or ``value`` credited to each group, in group order."""
        return [r.value if metric == "value" else r.conversions for r in self.credits]

    def shares(self, metric: str) -> list[float]:
        """Each group's share of the conversions or of the value, in group order."""
        return [r.value_share if metric == "value" else r.share for r in self.credits]

    def by_group(self, metric: str = "conversions") -> dict[str, float]:
        """``{group: credit}`` of the conversions or of the value."""
        return {r.group: (r.value if metric == "value" else r.conversions)
                for r in self.credits}


@dataclass
class SourcedRow:
    """Per group: sourced (first touch), influenced (the primary model's fractional credit),
    touched (every journey the group touched, counted whole — not additive) and, by channel,
    the CRM's own source channel."""

    group: str
    sourced: float
    sourced_value: float
    influenced: float
    influenced_value: float
    influenced_model: str
    touched: float
    touched_value: float
    crm_sourced: float | None = None
    crm_sourced_value: float | None = None


@dataclass
class SpendRow:
    """Cost and return of one group's credited outcomes (None: not measurable)."""

    model: str
    group: str
    spend: float | None
    opportunities: float | None
    pipeline: float | None
    won_deals: float | None
    revenue: float | None
    cost_per_opportunity: float | None
    cost_per_won_deal: float | None
    pipeline_roas: float | None
    roas: float | None
    roi: float | None


@dataclass
class TruthRecovery:
    """Spearman's rho of each model's credits against the generator's true effects."""

    table: str
    channels: int
    spearman: dict[str, float | None]  # best first
    beats_last_touch: dict[str, bool]


@dataclass
class AttributionSource:
    """Where the journeys came from and how they were cut."""

    kind: Literal["store", "paths"]
    by: str
    file: str | None = None
    sep: str | None = None
    url: str | None = None
    engine: str | None = None
    level: str | None = None
    metric: str | None = None
    lookback_days: float | None = None
    conversion_window_days: float | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    data_end: dt.datetime | None = None
    conversion_stage: str | None = None


@dataclass
class AttributionResult(Result):
    """Everything one attribution run produced."""

    source: AttributionSource
    metric: str  # "conversions" or "value": the column reports lead with
    labels: dict[str, str]  # what conversions and value mean here (opportunities, pipeline …)
    totals: dict[str, float]
    groups: list[str]
    models: list[ModelCredits]
    comparison: Comparison
    group_names: dict[str, str] = field(default_factory=dict)  # campaign / content titles
    sourced_influenced: list[SourcedRow] | None = None
    spend: list[SpendRow] | None = None
    truth: TruthRecovery | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    currency: str | None = None  # the currency of every amount (None: none named or none)

    def model(self, name: str) -> ModelCredits:
        """The credits of the model named ``name``."""
        for m in self.models:
            if m.model == name:
                return m
        raise KeyError(name)

    def label_of(self, group: str) -> str:
        """A group as people read it: ``name (id)`` for campaigns and content."""
        name = self.group_names.get(group)
        return f"{name} ({group})" if name else group

    def tables(self) -> dict[str, pa.Table]:
        """``credits`` (one row per model and group) and, when computed, ``sourced`` and
        ``spend``."""
        out = {"credits": self._credits_table()}
        if self.sourced_influenced is not None:
            out["sourced"] = rows_table(self.sourced_influenced, SourcedRow)
        if self.spend is not None:
            out["spend"] = rows_table(self.spend, SpendRow)
        return out

    def _credits_table(self) -> pa.Table:
        cols: dict[str, list[Any]] = {k: [] for k in (
            "model", "group", "conversions", "value", "share", "value_share",
            "conversions_low", "conversions_high", "value_low", "value_high")}
        for m in self.models:
            for row in m.credits:
                cols["model"].append(m.model)
                for k in ("group", "conversions", "value", "share", "value_share"):
                    cols[k].append(getattr(row, k))
                ci = row.conversions_ci or (None, None)
                vi = row.value_ci or (None, None)
                cols["conversions_low"].append(ci[0])
                cols["conversions_high"].append(ci[1])
                cols["value_low"].append(vi[0])
                cols["value_high"].append(vi[1])
        schema = pa.schema([("model", pa.string()), ("group", pa.string())]
                           + [(k, pa.float64()) for k in list(cols)[2:]])
        return pa.table(cols, schema=schema)
