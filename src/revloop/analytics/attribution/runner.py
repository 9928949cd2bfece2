"""Runners: a typed request in, a typed result out, for path files and for the store.

``attribute_journeys`` runs any set of models on journeys already in memory (a path file, or
journeys built from the store by :mod:`journeys`) and returns an :class:`AttributionResult`:
credits per model with bootstrap intervals for the data-driven ones, the comparison table,
totals with the unattributed part, and timings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from revloop.analytics.attribution.bootstrap import Interval, bootstrap
from revloop.analytics.attribution.compare import Comparison, compare
from revloop.analytics.attribution.credits import AttributionModel, Credits
from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.heuristics import (
    FirstTouch,
    FullPath,
    LastNonDirect,
    LastTouch,
    Linear,
    MilestoneWeights,
    TimeDecay,
    UShaped,
    WShaped,
    parse_weights,
)
from revloop.analytics.attribution.journeys import (
    NONE_GROUP,
    JourneyRequest,
    StoreJourneys,
    build_journeys,
)
from revloop.analytics.attribution.markov import Markov
from revloop.analytics.attribution.paths import (
    CLOSED_WON,
    LEAD_CREATION,
    OPPORTUNITY_CREATION,
    Journeys,
    collapse_repeats,
    drop_channels,
    unique_channels,
)
from revloop.analytics.attribution.shapley import Shapley
from revloop.analytics.attribution.spend import spend_by_group, spend_rows
from revloop.analytics.attribution.truth import read_truth, truth_recovery
from revloop.store import Store

HEURISTICS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay",
              "u_shaped", "w_shaped", "full_path", "custom")
DATA_DRIVEN = ("markov", "shapley", "shapley_ordered")
MODEL_NAMES = HEURISTICS + DATA_DRIVEN
_ALIASES = {
    "first": "first_touch", "last": "last_touch", "last_click": "last_touch",
    "first_click": "first_touch", "position_based": "u_shaped", "u": "u_shaped",
    "w": "w_shaped", "time": "time_decay", "shapley_unordered": "shapley",
}
# custom needs weights and shapley_ordered repeats shapley's channel credits (it adds the
# positions): both only when asked for by name
_GROUPS = {
    "all": (*HEURISTICS[:8], "markov", "shapley"),
    "heuristics": HEURISTICS[:8],
    "data_driven": ("markov", "shapley"),
}


@dataclass(frozen=True)
class ModelOptions:
    """Which models to run and how (shared by path files and the store)."""

    models: tuple[str, ...] = ("linear",)
    markov_order: int = 1
    half_life: float = 7.0
    # auto: days when the journeys carry timestamps (the store), touches otherwise (files)
    half_life_unit: Literal["auto", "days", "touches"] = "auto"
    custom_weights: str | None = None  # "first=0.3,lead_creation=0.3,…,rest=0.1"
    direct_channels: tuple[str, ...] = ("direct",)
    collapse_repeats: bool = False
    unique_channels: bool = False
    exclude_channels: tuple[str, ...] = ()
    bootstrap: int = 0  # replicates for the data-driven models (0: none)
    bootstrap_all: bool = False  # intervals for the rule-based models too
    confidence: float = 0.95
    seed: int = 0


def model_names(requested: Sequence[str]) -> list[str]:
    """Canonical model names from user input (aliases, ``all``, comma lists, ``markov_2``)."""
    names: list[str] = []
    for item in requested:
        for raw in filter(None, (x.strip().lower().replace("-", "_") for x in item.split(","))):
            expanded = _GROUPS.get(raw, (_ALIASES.get(raw, raw),))
            for name in expanded:
                base = name.rsplit("_", 1)[0] if name.startswith("markov_") else name
                if base not in MODEL_NAMES:
                    raise AttributionError(
                        f"unknown model {raw!r}; choose from {', '.join(MODEL_NAMES)}, "
                        "markov_2 … markov_4, all, heuristics, data_driven", code="bad_model")
                if name not in names:
                    names.append(name)
    if not names:
        raise AttributionError("no model requested", code="bad_model")
    return names


def build_models(options: ModelOptions, has_timestamps: bool = True) -> list[AttributionModel]:
    """The estimators named by ``options.models``, configured."""
    unit: Literal["days", "touches"]
    if options.half_life_unit == "auto":
        unit = "days" if has_timestamps else "touches"
    else:
        unit = options.half_life_unit
    models: list[AttributionModel] = []
    for name in model_names(options.models):
        if name.startswith("markov"):
            order = int(name.split("_")[1]) if "_" in name else options.markov_order
            models.append(Markov(order=order))
        elif name == "first_touch":
            models.append(FirstTouch())
        elif name == "last_touch":
            models.append(LastTouch())
        elif name == "last_non_direct":
            models.append(LastNonDirect(options.direct_channels))
        elif name == "linear":
            models.append(Linear())
        elif name == "time_decay":
            models.append(TimeDecay(options.half_life, unit))
        elif name == "u_shaped":
            models.append(UShaped())
        elif name == "w_shaped":
            models.append(WShaped())
        elif name == "full_path":
            models.append(FullPath())
        elif name == "custom":
            if not options.custom_weights:
                raise AttributionError(
                    "the custom model needs --weights, e.g. first=0.3,lead_creation=0.3,"
                    "opportunity_creation=0.3,rest=0.1", code="bad_weights")
            weights, rest = parse_weights(options.custom_weights)
            models.append(MilestoneWeights(weights, rest=rest, name="custom"))
        elif name == "shapley":
            models.append(Shapley())
        elif name == "shapley_ordered":
            models.append(Shapley(ordered=True))
    return models


def prepare_journeys(journeys: Journeys, options: ModelOptions) -> Journeys:
    """Apply the path options every model sees (excluded channels, repeats, unique)."""
    j = drop_channels(journeys, options.exclude_channels) if options.exclude_channels \
        else journeys
    if options.collapse_repeats:
        j = collapse_repeats(j)
    if options.unique_channels:
        j = unique_channels(j)
    return j


@dataclass
class ModelResult:
    """One model's credits, its interval (when bootstrapped) and how long it took."""

    credits: Credits
    interval: Interval | None
    seconds: float
    data_driven: bool

    def rows(self) -> list[dict[str, Any]]:
        c = self.credits
        share_c, share_v = c.share("conversions"), c.share("value")
        rows = []
        for i, group in enumerate(c.channels):
            row: dict[str, Any] = {
                "group": group, "conversions": float(c.conversions[i]),
                "value": float(c.value[i]), "share": float(share_c[i]),
                "value_share": float(share_v[i]),
            }
            if self.interval is not None:
                iv = self.interval
                row["conversions_ci"] = [float(iv.conversions_low[i]),
                                         float(iv.conversions_high[i])]
                row["value_ci"] = [float(iv.value_low[i]), float(iv.value_high[i])]
                row["share_ci"] = [float(iv.share_low[i]), float(iv.share_high[i])]
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "model": self.credits.model,
            "data_driven": self.data_driven,
            "total_conversions": self.credits.total_conversions,
            "total_value": self.credits.total_value,
            "reconciles": self.credits.reconciles(),
            "credits": self.rows(),
            "details": self.credits.details,
            "seconds": round(self.seconds, 4),
        }
        if self.interval is not None:
            doc["bootstrap"] = {"replicates": self.interval.replicates,
                                "confidence": self.interval.confidence}
        return doc


@dataclass
class AttributionResult:
    """Everything one ``revloop attribute`` run produced."""

    source: dict[str, Any]
    metric: str  # "conversions" or "value": the column reports lead with
    labels: dict[str, str]  # what conversions and value mean here (opportunities, pipeline …)
    totals: dict[str, float]
    channels: tuple[str, ...]
    models: list[ModelResult]
    comparison: Comparison
    sourced_influenced: list[dict[str, Any]] | None = None
    spend: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    group_names: dict[str, str] = field(default_factory=dict)  # campaign/content titles
    truth: dict[str, Any] | None = None  # Spearman against the generator's truth, if any

    def model(self, name: str) -> ModelResult:
        """The result of the model named ``name``."""
        for m in self.models:
            if m.credits.model == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready document."""
        return {
            "source": self.source,
            "metric": self.metric,
            "labels": self.labels,
            "totals": self.totals,
            "groups": list(self.channels),
            "group_names": self.group_names,
            "models": [m.to_dict() for m in self.models],
            "comparison": self.comparison.to_dict(),
            "sourced_influenced": self.sourced_influenced,
            "spend": self.spend,
            "truth": self.truth,
            "notes": self.notes,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }

    def to_arrow(self) -> pa.Table:
        """Long table: one row per model and group (the Parquet/CSV export)."""
        cols: dict[str, list[Any]] = {k: [] for k in (
            "model", "group", "conversions", "value", "share", "value_share",
            "conversions_low", "conversions_high", "value_low", "value_high")}
        for m in self.models:
            for row in m.rows():
                cols["model"].append(m.credits.model)
                for k in ("group", "conversions", "value", "share", "value_share"):
                    cols[k].append(row[k])
                ci = row.get("conversions_ci") or [None, None]
                vi = row.get("value_ci") or [None, None]
                cols["conversions_low"].append(ci[0])
                cols["conversions_high"].append(ci[1])
                cols["value_low"].append(vi[0])
                cols["value_high"].append(vi[1])
        schema = pa.schema([("model", pa.string()), ("group", pa.string())]
                           + [(k, pa.float64()) for k in list(cols)[2:]])
        return pa.table(cols, schema=schema)


def attribute_journeys(
    journeys: Journeys,
    options: ModelOptions,
    *,
    source: dict[str, Any],
    metric: str = "conversions",
    labels: dict[str, str] | None = None,
    notes: Sequence[str] = (),
) -> AttributionResult:
    """Run the requested models on ``journeys`` (path options applied first)."""
    started = time.perf_counter()
    models = build_models(options, has_timestamps=journeys.ages is not None)
    j = prepare_journeys(journeys, options)
    timings = {"prepare": time.perf_counter() - started}
    out_notes = list(notes)
    if journeys.ages is None and options.half_life_unit == "auto" \
            and any(isinstance(m, TimeDecay) for m in models):
        out_notes.append(f"no timestamps: time decay halves every {options.half_life:g} "
                         "touches back from the conversion")
    if any(m.needs_touch_data for m in models) and j.flags is None \
            and any(isinstance(m, MilestoneWeights) and not isinstance(m, UShaped)
                    for m in models):
        out_notes.append("these journeys carry no milestone marks: W-shaped, full-path and "
                         "custom milestone weights move the missing milestones' shares to "
                         "the first touch and the rest (see docs/attribution.md)")
    results: list[ModelResult] = []
    for model in models:
        t0 = time.perf_counter()
        credits = model.fit(j).credits_
        interval = None
        if options.bootstrap and (model.data_driven or options.bootstrap_all):
            interval = bootstrap(model, j, options.bootstrap, options.confidence, options.seed)
        results.append(ModelResult(credits, interval, time.perf_counter() - t0,
                                   model.data_driven))
    timings["models"] = sum(r.seconds for r in results)
    totals = j.totals()
    totals["touches"] = float(j.n_touches)
    totals["rows"] = float(j.n_journeys)
    totals["attributed_conversions"] = totals["conversions"] - totals["unattributed_conversions"]
    totals["attributed_value"] = totals["value"] - totals["unattributed_value"]
    if totals["unattributed_conversions"]:
        out_notes.append(
            f"{totals['unattributed_conversions']:g} conversions "
            f"({totals['unattributed_value']:,.2f} value) have no touch to credit and are "
            "reported as unattributed")
    comparison_metric = "value" if metric == "value" else "conversions"
    return AttributionResult(
        source=source, metric=metric,
        labels=labels or {"conversions": "conversions", "value": "value"},
        totals=totals, channels=j.channels, models=results,
        comparison=compare([r.credits for r in results], comparison_metric),
        notes=out_notes, timings=timings,
    )


# -- the store ---------------------------------------------------------------------------------
_LABELS = {
    "pipeline": {"conversions": "opportunities", "value": "pipeline"},
    "revenue": {"conversions": "won deals", "value": "revenue"},
}
_POSITIONAL = {"first", "last", LEAD_CREATION, OPPORTUNITY_CREATION, CLOSED_WON}


def _primary(results: Sequence[ModelResult]) -> ModelResult:
    """The model that sourced-vs-influenced and spend reports use: the first data-driven one
    requested, else the first."""
    return next((r for r in results if r.data_driven), results[0])


def _stage_milestones(options: ModelOptions) -> tuple[str, ...]:
    """Stage names custom weights refer to (marked on the touch that led to each stage)."""
    if not options.custom_weights or "custom" not in model_names(options.models):
        return ()
    weights, _ = parse_weights(options.custom_weights)
    return tuple(name for name in weights if name not in _POSITIONAL)


def attribute_store(store: Store, request: JourneyRequest,
                    options: ModelOptions) -> AttributionResult:
    """Attribute the store's journeys: credits per model, sourced vs influenced, spend."""
    t0 = time.perf_counter()
    req = replace(
        request,
        direct_channels=options.direct_channels,
        exclude_channels=tuple(dict.fromkeys(request.exclude_channels
                                             + options.exclude_channels)),
        stages=tuple(dict.fromkeys(request.stages + _stage_milestones(options))),
    )
    built = build_journeys(store, req)
    model_opts = replace(options, exclude_channels=())  # excluded in SQL already
    stage_view = req.metric == "conversions" and req.level == "contact"
    labels = ({"conversions": f"{req.conversion_stage} conversions", "value": "value"}
              if stage_view else _LABELS.get(req.metric, _LABELS["pipeline"]))
    notes = []
    if built.counts["milestones_without_touches"]:
        notes.append(f"{built.counts['milestones_without_touches']:,.0f} milestones had no "
                     f"touch in the {req.lookback_days:g}-day lookback window")
    result = attribute_journeys(
        built.journeys, model_opts,
        source={"kind": "store", "url": store.url, "engine": store.engine, "level": req.level,
                "by": req.by, "metric": req.metric, "lookback_days": req.lookback_days,
                "conversion_window_days": req.conversion_window_days,
                "start": req.start.isoformat() if req.start else None,
                "end": req.end.isoformat() if req.end else None,
                "data_end": built.data_end.isoformat(),
                "conversion_stage": req.conversion_stage if stage_view else None},
        metric="conversions" if stage_view or req.metric == "conversions" else "value",
        labels=labels, notes=notes,
    )
    result.totals.update({f"{k}": v for k, v in built.counts.items()})
    result.group_names = built.group_names
    t1 = time.perf_counter()
    prepared = prepare_journeys(built.journeys, model_opts)
    primary = _primary(result.models)
    primary_model = next(m for m in build_models(model_opts, True)
                         if m.label == primary.credits.model)
    result.sourced_influenced = _sourced_influenced(prepared, built, primary, req)
    if not stage_view:
        spend = spend_by_group(store, req.by, req.start, req.end)
        if spend is not None:
            credited = _credited_views(primary_model, prepared, built)
            groups = sorted(set(prepared.channels) | set(spend))
            result.spend = spend_rows(primary.credits.model, groups, spend, credited)
            if not spend:
                result.notes.append("no campaign spend recorded: cost metrics are empty")
    if req.by.strip() == "channel" and not stage_view:
        truth = read_truth(store, req.metric)
        if truth:
            result.truth = truth_recovery(result, truth)
    result.timings.update({f"build_{k}": v for k, v in built.timings.items()})
    result.timings["reports"] = time.perf_counter() - t1
    result.timings["total"] = time.perf_counter() - t0
    return result


def _credited_views(model: AttributionModel, journeys: Journeys,
                    built: StoreJourneys) -> dict[str, dict[str, float]]:
    """Opportunities, pipeline, won deals and revenue credited to each group by ``model``.

    The journeys are the requested metric's (to opportunity creation for pipeline, to the
    close for revenue); the other view re-solves the same model on the same paths with the
    other outcomes (won deals as conversions, lost ones as non-conversions, or every
    opportunity as a conversion)."""
    out: dict[str, dict[str, float]] = {g: {} for g in journeys.channels}
    for view, (conv_key, value_key) in (("pipeline", ("opportunities", "pipeline")),
                                        ("revenue", ("won_deals", "revenue"))):
        conv, nulls, value = built.views[view]
        credits = model.fit(journeys.with_outcomes(conv, nulls, value)).credits_
        for i, g in enumerate(credits.channels):
            out[g][conv_key] = float(credits.conversions[i])
            out[g][value_key] = float(credits.value[i])
    return out


def _sourced_influenced(journeys: Journeys, built: StoreJourneys, primary: ModelResult,
                        req: JourneyRequest) -> list[dict[str, Any]]:
    """Per group: sourced (first touch), influenced (the primary model's fractional credit),
    touched (every journey the group touched counts whole — not additive) and, by channel,
    the CRM's own source channel."""
    first = FirstTouch().fit(journeys).credits_
    jt = journeys.journey_of_touch
    pairs = np.unique(jt * len(journeys.channels) + journeys.touches)
    pj, pg = pairs // len(journeys.channels), pairs % len(journeys.channels)
    touched = np.bincount(pg, journeys.conversions[pj], minlength=len(journeys.channels))
    touched_v = np.bincount(pg, journeys.value[pj], minlength=len(journeys.channels))
    crm: dict[str, list[float]] = {}
    if req.by.strip() == "channel":
        for i, src in enumerate(built.crm_source):
            if journeys.conversions[i] or journeys.value[i]:
                acc = crm.setdefault(src or NONE_GROUP, [0.0, 0.0])
                acc[0] += float(journeys.conversions[i])
                acc[1] += float(journeys.value[i])
    inf = primary.credits
    rows = []
    for i, g in enumerate(journeys.channels):
        row: dict[str, Any] = {
            "group": g,
            "sourced": float(first.conversions[i]), "sourced_value": float(first.value[i]),
            "influenced": float(inf.conversions[i]), "influenced_value": float(inf.value[i]),
            "influenced_model": inf.model,
            "touched": float(touched[i]), "touched_value": float(touched_v[i]),
        }
        if crm:
            row["crm_sourced"], row["crm_sourced_value"] = crm.pop(g, [0.0, 0.0])
        rows.append(row)
    for g, (c, v) in sorted(crm.items()):  # CRM source channels nobody touched through
        rows.append({"group": g, "sourced": 0.0, "sourced_value": 0.0, "influenced": 0.0,
                     "influenced_value": 0.0, "influenced_model": inf.model, "touched": 0.0,
                     "touched_value": 0.0, "crm_sourced": c, "crm_sourced_value": v})
    return rows
