"""CLI commands of attribution and influenced revenue: ``revloop attribute``."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from revloop.interfaces.cli.common import (
    JsonOpt,
    RawOpt,
    emit_json,
    open_store,
    out,
    report_files,
    run,
    show_path,
)
from revloop.interfaces.cli.lazy import lazy_module

if TYPE_CHECKING:
    from revloop.facade import attribution
else:
    attribution = lazy_module("revloop.facade.attribution")


class Level(StrEnum):
    contact = "contact"
    account = "account"


class HalfLifeUnit(StrEnum):
    auto = "auto"
    days = "days"
    touches = "touches"


_HELP = """Credit conversions, pipeline and revenue to channels, campaigns or content.

Models: first_touch, last_touch, last_non_direct, linear, time_decay, u_shaped, w_shaped,
full_path, custom (--weights), markov (exact, --order 1–4), shapley, shapley_ordered; or
`all` (the default), `heuristics`, `data_driven`. Several: `-m markov -m shapley` or
`-m markov,shapley`.

From the store (after `revloop build`): `revloop attribute --level account --by channel
--metric pipeline`. From an aggregated path file (`path, conversions, nulls, value`):
`revloop attribute --paths paths.csv --sep '>'`.
"""


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("attribute", help=_HELP)(attribute)


def attribute(
    model: Annotated[list[str] | None, typer.Option(
        "--model", "-m", help="Model(s): a name, a comma list, all, heuristics, data_driven.")
    ] = None,
    paths: Annotated[Path | None, typer.Option(
        "--paths", help="Aggregated path file (CSV, TSV or Parquet) instead of the store.",
        rich_help_panel="Path file")] = None,
    sep: Annotated[str, typer.Option(
        "--sep", help="Separator between the channels of a path.",
        rich_help_panel="Path file")] = ">",
    delimiter: Annotated[str | None, typer.Option(
        "--delimiter", help="CSV field delimiter (default comma; tab for .tsv).",
        rich_help_panel="Path file")] = None,
    path_col: Annotated[str | None, typer.Option(
        "--path-col", help="Column with the path (default: path).",
        rich_help_panel="Path file")] = None,
    conversions_col: Annotated[str | None, typer.Option(
        "--conversions-col", help="Column with conversions (default: conversions).",
        rich_help_panel="Path file")] = None,
    nulls_col: Annotated[str | None, typer.Option(
        "--nulls-col", help="Column with non-converting journeys (default: nulls).",
        rich_help_panel="Path file")] = None,
    value_col: Annotated[str | None, typer.Option(
        "--value-col", help="Column with the total conversion value (default: value).",
        rich_help_panel="Path file")] = None,
    level: Annotated[Level, typer.Option(
        "--level", help="contact journeys, or account journeys (every person at the account).",
        rich_help_panel="Store")] = Level.account,
    by: Annotated[str, typer.Option(
        "--by", help="Credit channel, campaign, content, or any touchpoint property "
        "(a key of the properties JSON).", rich_help_panel="Store")] = "channel",
    metric: Annotated[str | None, typer.Option(
        "--metric", help="Store: pipeline (default), revenue or conversions. Path file: "
        "conversions (default) or value.")] = None,
    lookback_days: Annotated[float, typer.Option(
        "--lookback-days", help="Touches up to this many days before the milestone count.",
        rich_help_panel="Store")] = 365.0,
    conversion_window_days: Annotated[float, typer.Option(
        "--conversion-window-days", help="How long a journey may take to convert: "
        "non-converting journeys end this many days before the data end.",
        rich_help_panel="Store")] = 90.0,
    start: Annotated[str | None, typer.Option(
        "--start", help="Only milestones on or after this date (YYYY-MM-DD).",
        rich_help_panel="Store")] = None,
    end: Annotated[str | None, typer.Option(
        "--end", help="Only milestones on or before this date; the data end for open "
        "journeys.", rich_help_panel="Store")] = None,
    stage: Annotated[str, typer.Option(
        "--stage", help="Contact-level conversions: the stage a person converts into.",
        rich_help_panel="Store")] = "opportunity",
    exclude_touch_type: Annotated[list[str] | None, typer.Option(
        "--exclude-touch-type", help="Leave out touches of this type (repeatable).",
        rich_help_panel="Store")] = None,
    exclude_channel: Annotated[list[str] | None, typer.Option(
        "--exclude-channel", help="Leave out touches of this channel (repeatable).")] = None,
    collapse_repeats: Annotated[bool, typer.Option(
        "--collapse-repeats", help="Merge consecutive touches of the same group.")] = False,
    unique_channels: Annotated[bool, typer.Option(
        "--unique-channels", help="Keep each group once per journey (first appearance).")
    ] = False,
    order: Annotated[int, typer.Option("--order", help="Markov order (1–4).")] = 1,
    half_life: Annotated[float, typer.Option(
        "--half-life", help="Time-decay half-life.")] = 7.0,
    half_life_unit: Annotated[HalfLifeUnit, typer.Option(
        "--half-life-unit", help="days, touches, or auto (days when timestamps exist).")
    ] = HalfLifeUnit.auto,
    weights: Annotated[str | None, typer.Option(
        "--weights", help="Custom model: first=0.3,lead_creation=0.3,"
        "opportunity_creation=0.3,rest=0.1 (any milestone or stage name).")] = None,
    direct_channel: Annotated[list[str] | None, typer.Option(
        "--direct-channel", help="Channels last non-direct skips (default: direct).")] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", help="Bootstrap replicates for confidence intervals of the data-driven "
        "models (0: none; 200 is a good start).")] = 0,
    confidence: Annotated[float, typer.Option(
        "--confidence", help="Confidence level of the intervals.")] = 0.95,
    bootstrap_all: Annotated[bool, typer.Option(
        "--bootstrap-all", help="Intervals for the rule-based models too.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap random seed.")] = 0,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the credits to .parquet or .csv (or all to .json).")
    ] = None,
    chart: Annotated[Path | None, typer.Option(
        "--chart", help="Draw the chart(s): file.png, file.svg, or a name for both.")] = None,
    raw: RawOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run ``revloop attribute`` (help text in ``_HELP``)."""
    common: dict[str, Any] = dict(
        models=tuple(model or ["all"]), markov_order=order, half_life=half_life,
        half_life_unit=half_life_unit.value, custom_weights=weights,
        direct_channels=tuple(direct_channel or ["direct"]), collapse_repeats=collapse_repeats,
        unique_channels=unique_channels, exclude_channels=tuple(exclude_channel or ()),
        bootstrap=bootstrap, bootstrap_all=bootstrap_all, confidence=confidence, seed=seed)

    def body() -> tuple[attribution.AttributionResult, list[Path]]:
        if paths is not None:
            result = attribution.run_paths(attribution.PathAttributionRequest.model_validate(dict(
                file=str(paths), metric=metric or "conversions", sep=sep, delimiter=delimiter,
                path_col=path_col, conversions_col=conversions_col, nulls_col=nulls_col,
                value_col=value_col, **common)))
        else:
            request = attribution.AttributionRequest.model_validate(dict(
                level=level.value, by=by, metric=metric or "pipeline",
                lookback_days=lookback_days, conversion_window_days=conversion_window_days,
                start=_date(start, "--start"), end=_date(end, "--end"), conversion_stage=stage,
                exclude_touch_types=tuple(exclude_touch_type or ()), **common))
            with open_store() as store:
                result = attribution.run(store, request)
        files: list[Path] = []
        if output is not None:
            attribution.export(result, output, raw)
            files.append(output)
        if chart is not None:
            files += attribution.chart(result, chart)
        return result, files

    result, files = run(body, as_json)
    if as_json:
        emit_json(result.to_json())
    else:
        print_result(result)
    report_files(files, as_json)


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise attribution.AttributionError(
            f"{flag} {text!r} is not a date (YYYY-MM-DD)", code="bad_date") from None


def _compact(x: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:,.1f}{suffix}"
    return f"{x:,.2f}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.2f}" if abs(x) < 1e6 else f"{x:,.0f}"


def print_result(result: attribution.AttributionResult) -> None:
    """The credits table(s), the totals and every report the result holds."""
    src = result.source
    label = result.labels.get(result.metric, result.metric)
    shown = show_path(src.file) if src.file else (src.url or "")
    level = f", {src.level} level" if src.level else ""
    table = Table(title=f"{label.capitalize()} by {src.by}{level} — {shown}",
                  title_justify="left")
    table.add_column(src.by)
    if len(result.models) == 1:
        _single_model_rows(table, result)
    else:
        _model_share_rows(table, result)
    out.print(table)
    t = result.totals
    total_key = "attributed_value" if result.metric == "value" else "attributed_conversions"
    out.print(f"{_fmt(t[total_key])} {label} credited over {t['journeys']:,.0f} journeys "
              f"({t['rows']:,.0f} rows, {t['touches']:,.0f} touches); every model's credits "
              "add up to that total.")
    if len(result.models) > 1:
        _print_intervals(result)
        _print_disagreement(result)
    if result.sourced_influenced:
        _print_sourced(result)
    if result.spend and any(r.spend for r in result.spend):
        _print_spend(result)
    if result.truth:
        rho = result.truth.spearman
        out.print(f"Truth recovery (Spearman against {result.truth.table}, "
                  f"{result.truth.channels} channels): " + ", ".join(
                      f"{k} {v:.2f}" if v is not None else f"{k} —" for k, v in rho.items()))
    for note in result.notes:
        out.print(f"[yellow]note[/] {note}", highlight=False)


def _single_model_rows(table: Table, result: attribution.AttributionResult) -> None:
    m = result.models[0]
    value_metric = result.metric == "value"
    for col in (result.labels["conversions"], result.labels["value"], "share"):
        table.add_column(col, justify="right")
    if m.bootstrap is not None:
        table.add_column(f"{m.bootstrap.confidence:.0%} interval", justify="right")
    for row in sorted(m.credits, key=lambda r: -(r.value if value_metric else r.conversions)):
        cells = [result.label_of(row.group), _fmt(row.conversions), _fmt(row.value),
                 f"{row.value_share if value_metric else row.share:.1%}"]
        ci = row.value_ci if value_metric else row.conversions_ci
        if m.bootstrap is not None and ci is not None:
            cells.append(f"{_fmt(ci[0])} – {_fmt(ci[1])}")
        table.add_row(*cells)
    table.add_row("[bold]total[/]", _fmt(m.total_conversions), _fmt(m.total_value), "100.0%",
                  end_section=True)


def _model_share_rows(table: Table, result: attribution.AttributionResult) -> None:
    metric = result.metric
    shares = [m.shares(metric) for m in result.models]
    for m in result.models:
        table.add_column(_SHORT.get(m.model, m.model), justify="right")
    order = sorted(range(len(result.groups)), key=lambda i: -max(s[i] for s in shares))
    for i in order:
        table.add_row(result.label_of(result.groups[i]), *[f"{s[i]:.1%}" for s in shares])
    table.add_row("[bold]total[/]", *[
        _compact(m.total_value if metric == "value" else m.total_conversions)
        for m in result.models])


def _print_disagreement(result: attribution.AttributionResult) -> None:
    rows = result.comparison.rows[:3]
    if rows:
        out.print("Models disagree most on: " + "; ".join(
            f"{r.channel} ({r.high_model} {r.shares[r.high_model]:.1%} vs {r.low_model} "
            f"{r.shares[r.low_model]:.1%})" for r in rows))


_SHORT = {"first_touch": "first", "last_touch": "last", "last_non_direct": "last n-d",
          "time_decay": "decay", "u_shaped": "U", "w_shaped": "W", "full_path": "full",
          "shapley_ordered": "shapley ord."}


def _print_intervals(result: attribution.AttributionResult) -> None:
    boot = [m for m in result.models if m.bootstrap is not None]
    if not boot or boot[0].bootstrap is None:
        return
    info = boot[0].bootstrap
    table = Table(title=f"{info.confidence:.0%} bootstrap intervals of the shares "
                  f"({info.replicates} replicates)", title_justify="left")
    table.add_column(result.source.by)
    for m in boot:
        table.add_column(m.model, justify="right")
    for i, group in enumerate(result.groups):
        cells = [result.label_of(group)]
        for m in boot:
            row = m.credits[i]
            if result.metric == "value":
                tot = m.total_value or 1.0
                ci = row.value_ci or (0.0, 0.0)
                lo, hi = ci[0] / tot, ci[1] / tot
            else:
                lo, hi = row.share_ci or (0.0, 0.0)
            cells.append(f"{lo:.1%} – {hi:.1%}")
        table.add_row(*cells)
    out.print(table)


def _print_sourced(result: attribution.AttributionResult) -> None:
    rows = result.sourced_influenced or []
    crm = any(r.crm_sourced is not None for r in rows)
    model = rows[0].influenced_model if rows else ""
    table = Table(title=f"Sourced (first touch) vs influenced ({model}) vs touched (whole "
                  "deals, not additive)", title_justify="left")
    cols = ["group", "sourced", "sourced value", "influenced", "influenced value", "touched",
            "touched value"] + (["CRM source", "CRM source value"] if crm else [])
    for col in cols:
        table.add_column(col, justify="left" if col == "group" else "right")
    for r in sorted(rows, key=lambda r: (-r.touched_value, r.group)):
        cells = [result.label_of(r.group), _fmt(r.sourced), _fmt(r.sourced_value),
                 _fmt(r.influenced), _fmt(r.influenced_value), _fmt(r.touched),
                 _fmt(r.touched_value)]
        if crm:
            cells += [_fmt(r.crm_sourced or 0.0), _fmt(r.crm_sourced_value or 0.0)]
        table.add_row(*cells)
    out.print(table)


def _print_spend(result: attribution.AttributionResult) -> None:
    rows = result.spend or []
    model = rows[0].model if rows else ""
    table = Table(title=f"Spend and return ({model})", title_justify="left")
    for col in ("group", "spend", "opportunities", "pipeline", "won deals", "revenue",
                "cost / opportunity", "cost / won deal", "ROAS", "ROI"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for r in (r for r in rows if r.model == model):
        table.add_row(r.group, _fmt(r.spend), _fmt(r.opportunities), _fmt(r.pipeline),
                      _fmt(r.won_deals), _fmt(r.revenue), _fmt(r.cost_per_opportunity),
                      _fmt(r.cost_per_won_deal), _fmt(r.roas),
                      "—" if r.roi is None else f"{r.roi:.0%}")
    out.print(table)
