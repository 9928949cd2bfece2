"""The attribution runners: a typed request in, a typed result out.

``run`` attributes the store's journeys: they are built once (in Ibis), the path options are
applied once, every requested model is built once and fitted once, and the reports that
re-solve a model for other outcomes (spend against pipeline and revenue) reuse the fitted
model's prepared form. ``run_paths`` does the same for an aggregated path file. The result is
assembled in one step and not changed afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from revloop.analytics.attribution.bootstrap import Interval, bootstrap
from revloop.analytics.attribution.catalog import ModelSettings, build_models
from revloop.analytics.attribution.compare import compare
from revloop.analytics.attribution.credits import AttributionModel, Credits
from revloop.analytics.attribution.heuristics import (
    FirstTouch,
    MilestoneWeights,
    TimeDecay,
    UShaped,
)
from revloop.analytics.attribution.journeys import NONE_GROUP, StoreJourneys, build_journeys
from revloop.analytics.attribution.pathfile import PathFileOptions, read_path_file
from revloop.analytics.attribution.paths import (
    Journeys,
    collapse_repeats,
    drop_channels,
    unique_channels,
)
from revloop.analytics.attribution.request import (
    FILE_METRICS,
    AttributionRequest,
    ModelChoice,
    PathAttributionRequest,
)
from revloop.analytics.attribution.result import (
    AttributionResult,
    AttributionSource,
    BootstrapInfo,
    CreditRow,
    ModelCredits,
    SourcedRow,
    SpendRow,
)
from revloop.analytics.attribution.spend import spend_by_group, spend_rows
from revloop.analytics.attribution.truth import read_truth, truth_recovery
from revloop.analytics.contract import RunContext
from revloop.analytics.money import corporate_money
from revloop.store import Store

_LABELS = {
    "pipeline": {"conversions": "opportunities", "value": "pipeline"},
    "revenue": {"conversions": "won deals", "value": "revenue"},
}


@dataclass
class _Fitted:
    """One model fitted on the prepared journeys."""

    model: AttributionModel
    credits: Credits
    interval: Interval | None
    seconds: float


def run(store: Store, request: AttributionRequest,
        context: RunContext | None = None) -> AttributionResult:
    """Attribute the store's journeys: credits per model, sourced vs influenced, spend, and
    the truth recovery when the store holds the generator's truth."""
    ctx = context or RunContext()
    t0 = time.perf_counter()
    ctx.progress("journeys")
    # amounts of several currencies are never added: refused unless converted into one
    money = corporate_money(store) if request.metric != "conversions" else None
    built = build_journeys(store, request)
    ctx.progress("models")
    # excluded channels are left out in SQL already
    journeys = _prepare(built.journeys, request, exclude=False)
    fitted = _fit(journeys, request, has_timestamps=True)
    t1 = time.perf_counter()
    ctx.progress("reports")
    primary = next((f for f in fitted if f.model.data_driven), fitted[0])
    sourced = _sourced_influenced(journeys, built, primary.credits, request)
    spend, spend_notes = (None, []) if request.stage_view else _spend(
        store, request, journeys, built, primary)
    truth = None
    if request.by == "channel" and not request.stage_view:
        effects = read_truth(store, request.metric)
        metric = "conversions" if request.metric == "conversions" else "value"
        if effects:
            truth = truth_recovery([f.credits for f in fitted], effects, metric)
    notes = _store_notes(built, request) + _model_notes(fitted, journeys, request) + spend_notes
    if money is not None:
        notes.append(money.describe())
    timings = {"models": sum(f.seconds for f in fitted), "reports": time.perf_counter() - t1,
               **{f"build_{k}": v for k, v in built.timings.items()}}
    timings["total"] = time.perf_counter() - t0
    result = _result(
        fitted, journeys, _store_source(store, request, built), request,
        metric="conversions" if request.metric == "conversions" else "value",
        labels=_store_labels(request), notes=notes, timings=timings,
        totals_extra=built.counts, group_names=built.group_names,
        sourced=sourced, spend=spend, truth=truth,
    )
    result.currency = money.currency if money is not None else None
    return result


def run_paths(_store: Store | None, request: PathAttributionRequest,
              context: RunContext | None = None) -> AttributionResult:
    """Attribute an aggregated path file (``path, conversions, nulls, value``)."""
    ctx = context or RunContext()
    t0 = time.perf_counter()
    ctx.progress("read")
    options = PathFileOptions(sep=request.sep, path_col=request.path_col,
                              conversions_col=request.conversions_col,
                              nulls_col=request.nulls_col, value_col=request.value_col,
                              delimiter=request.delimiter)
    raw, read_notes = read_path_file(request.file, options)
    journeys = _prepare(raw, request, exclude=True)
    ctx.progress("models")
    fitted = _fit(journeys, request, has_timestamps=raw.ages is not None)
    notes = list(read_notes) + _model_notes(fitted, journeys, request)
    timings = {"prepare": time.perf_counter() - t0, "models": sum(f.seconds for f in fitted)}
    return _result(
        fitted, journeys,
        AttributionSource(kind="paths", by="channel", file=request.file, sep=request.sep),
        request, metric=FILE_METRICS[request.metric],
        labels={"conversions": "conversions", "value": "value"}, notes=notes,
        timings=timings,
    )


# -- fitting ------------------------------------------------------------------------------
def _prepare(journeys: Journeys, request: ModelChoice, *, exclude: bool) -> Journeys:
    """Apply the path options every model sees (excluded channels, repeats, unique)."""
    j = journeys
    if exclude and request.exclude_channels:
        j = drop_channels(j, request.exclude_channels)
    if request.collapse_repeats:
        j = collapse_repeats(j)
    if request.unique_channels:
        j = unique_channels(j)
    return j


def _settings(request: ModelChoice, has_timestamps: bool) -> ModelSettings:
    unit = request.half_life_unit
    if unit == "auto":
        unit = "days" if has_timestamps else "touches"
    return ModelSettings(markov_order=request.markov_order, half_life=request.half_life,
                         half_life_unit=unit, custom_weights=request.custom_weights,
                         direct_channels=request.direct_channels)


def _fit(journeys: Journeys, request: ModelChoice, has_timestamps: bool) -> list[_Fitted]:
    out = []
    for model in build_models(request.model_list, _settings(request, has_timestamps)):
        started = time.perf_counter()
        credits = model.fit(journeys).credits_
        interval = None
        if request.bootstrap and (model.data_driven or request.bootstrap_all):
            interval = bootstrap(model, journeys, request.bootstrap, request.confidence,
                                 request.seed)
        out.append(_Fitted(model, credits, interval, time.perf_counter() - started))
    return out


def _model_notes(fitted: Sequence[_Fitted], journeys: Journeys,
                 request: ModelChoice) -> list[str]:
    notes = []
    models = [f.model for f in fitted]
    if journeys.ages is None and request.half_life_unit == "auto" \
            and any(isinstance(m, TimeDecay) for m in models):
        notes.append(f"no timestamps: time decay halves every {request.half_life:g} touches "
                     "back from the conversion")
    if journeys.flags is None and any(isinstance(m, MilestoneWeights)
                                      and not isinstance(m, UShaped) for m in models):
        notes.append("these journeys carry no milestone marks: W-shaped, full-path and custom "
                     "milestone weights move the missing milestones' shares to the first "
                     "touch and the rest (see docs/attribution.md)")
    totals = journeys.totals()
    if totals["unattributed_conversions"]:
        notes.append(f"{totals['unattributed_conversions']:g} conversions "
                     f"({totals['unattributed_value']:,.2f} value) have no touch to credit and "
                     "are reported as unattributed")
    return notes


# -- the result ---------------------------------------------------------------------------
def _credit_rows(credits: Credits, interval: Interval | None) -> list[CreditRow]:
    share_c, share_v = credits.share("conversions"), credits.share("value")
    rows = []
    for i, group in enumerate(credits.channels):
        row = CreditRow(group=group, conversions=float(credits.conversions[i]),
                        value=float(credits.value[i]), share=float(share_c[i]),
                        value_share=float(share_v[i]))
        if interval is not None:
            row.conversions_ci = (float(interval.conversions_low[i]),
                                  float(interval.conversions_high[i]))
            row.value_ci = (float(interval.value_low[i]), float(interval.value_high[i]))
            row.share_ci = (float(interval.share_low[i]), float(interval.share_high[i]))
        rows.append(row)
    return rows


def _model_credits(f: _Fitted) -> ModelCredits:
    c = f.credits
    return ModelCredits(
        model=c.model, data_driven=f.model.data_driven, total_conversions=c.total_conversions,
        total_value=c.total_value, reconciles=c.reconciles(),
        credits=_credit_rows(c, f.interval), details=_jsonable(c.details),
        seconds=round(f.seconds, 4),
        bootstrap=(BootstrapInfo(f.interval.replicates, f.interval.confidence)
                   if f.interval is not None else None),
    )


def _result(fitted: Sequence[_Fitted], journeys: Journeys, source: AttributionSource,
            request: ModelChoice, *, metric: str, labels: dict[str, str], notes: list[str],
            timings: dict[str, float], totals_extra: dict[str, float] | None = None,
            group_names: dict[str, str] | None = None, sourced: list[SourcedRow] | None = None,
            spend: list[SpendRow] | None = None, truth: Any = None) -> AttributionResult:
    totals = journeys.totals()
    totals["touches"] = float(journeys.n_touches)
    totals["rows"] = float(journeys.n_journeys)
    totals["attributed_conversions"] = totals["conversions"] - totals["unattributed_conversions"]
    totals["attributed_value"] = totals["value"] - totals["unattributed_value"]
    totals.update(totals_extra or {})
    return AttributionResult(
        source=source, metric=metric, labels=labels, totals=totals,
        groups=list(journeys.channels), models=[_model_credits(f) for f in fitted],
        comparison=compare([f.credits for f in fitted], metric),
        group_names=group_names or {}, sourced_influenced=sourced, spend=spend, truth=truth,
        notes=notes, timings={k: round(v, 4) for k, v in timings.items()},
    )


def _jsonable(value: Any) -> Any:
    """Model details (NumPy scalars and arrays included) as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- the store's extra reports ------------------------------------------------------------
def _store_labels(request: AttributionRequest) -> dict[str, str]:
    if request.stage_view:
        return {"conversions": f"{request.conversion_stage} conversions", "value": "value"}
    return _LABELS.get(request.metric, _LABELS["pipeline"])


def _store_source(store: Store, request: AttributionRequest,
                  built: StoreJourneys) -> AttributionSource:
    return AttributionSource(
        kind="store", by=request.by, url=store.url, engine=store.engine, level=request.level,
        metric=request.metric, lookback_days=request.lookback_days,
        conversion_window_days=request.conversion_window_days, start=request.start,
        end=request.end, data_end=built.data_end,
        conversion_stage=request.conversion_stage if request.stage_view else None,
    )


def _store_notes(built: StoreJourneys, request: AttributionRequest) -> list[str]:
    missing = built.counts["milestones_without_touches"]
    if not missing:
        return []
    return [f"{missing:,.0f} milestones had no touch in the {request.lookback_days:g}-day "
            "lookback window"]


def _spend(store: Store, request: AttributionRequest, journeys: Journeys, built: StoreJourneys,
           primary: _Fitted) -> tuple[list[SpendRow] | None, list[str]]:
    """Spend, cost per opportunity and per won deal, ROAS and ROI of the primary model."""
    spend = spend_by_group(store, request.by, request.start, request.end)
    if spend is None:
        return None, []
    prepared = primary.model.prepare(journeys)
    credited: dict[str, dict[str, float]] = {g: {} for g in journeys.channels}
    for view, (conv_key, value_key) in (("pipeline", ("opportunities", "pipeline")),
                                        ("revenue", ("won_deals", "revenue"))):
        conv, value = prepared.credit(*built.views[view])
        for i, g in enumerate(journeys.channels):
            credited[g][conv_key] = float(conv[i])
            credited[g][value_key] = float(value[i])
    groups = sorted(set(journeys.channels) | set(spend))
    rows = [SpendRow(**r) for r in spend_rows(primary.credits.model, groups, spend, credited)]
    return rows, ([] if spend else ["no campaign spend recorded: cost metrics are empty"])


def _sourced_influenced(journeys: Journeys, built: StoreJourneys, influenced: Credits,
                        request: AttributionRequest) -> list[SourcedRow]:
    """Sourced (first touch), influenced (``influenced``'s fractional credit), touched and,
    by channel, the CRM's source channel, per group."""
    first = FirstTouch().fit(journeys).credits_
    n = len(journeys.channels)
    pairs = np.unique(journeys.journey_of_touch * n + journeys.touches)
    pj, pg = pairs // n, pairs % n
    touched = np.bincount(pg, journeys.conversions[pj], minlength=n)
    touched_v = np.bincount(pg, journeys.value[pj], minlength=n)
    crm = _crm_sources(journeys, built) if request.by == "channel" else {}
    rows = []
    for i, g in enumerate(journeys.channels):
        row = SourcedRow(
            group=g, sourced=float(first.conversions[i]), sourced_value=float(first.value[i]),
            influenced=float(influenced.conversions[i]),
            influenced_value=float(influenced.value[i]), influenced_model=influenced.model,
            touched=float(touched[i]), touched_value=float(touched_v[i]))
        if crm:
            row.crm_sourced, row.crm_sourced_value = crm.pop(g, (0.0, 0.0))
        rows.append(row)
    for g, (c, v) in sorted(crm.items()):  # CRM source channels nobody touched through
        rows.append(SourcedRow(g, 0.0, 0.0, 0.0, 0.0, influenced.model, 0.0, 0.0, c, v))
    return rows


def _crm_sources(journeys: Journeys, built: StoreJourneys) -> dict[str, tuple[float, float]]:
    """Conversions and value per the CRM's own source channel of the milestone."""
    acc: dict[str, list[float]] = {}
    for i, src in enumerate(built.crm_source):
        if journeys.conversions[i] or journeys.value[i]:
            cell = acc.setdefault(src or NONE_GROUP, [0.0, 0.0])
            cell[0] += float(journeys.conversions[i])
            cell[1] += float(journeys.value[i])
    return {k: (v[0], v[1]) for k, v in acc.items()}
