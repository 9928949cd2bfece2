"""CLI commands of the integrated funnel."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from revloop.interfaces.cli.common import (
    JsonOpt,
    RawOpt,
    emit_json,
    open_store,
    out,
    progress_bar,
    report_files,
    run,
)
from revloop.interfaces.cli.lazy import lazy_module

if TYPE_CHECKING:
    from revloop.facade import funnel
else:
    funnel = lazy_module("revloop.facade.funnel")

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class LevelOpt(StrEnum):
    lead = "lead"
    account = "account"
    opportunity = "opportunity"


class PeriodOpt(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"


class ReentryOpt(StrEnum):
    first = "first"
    cycle = "cycle"


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _days(x: float | None) -> str:
    return "—" if x is None else f"{x:,.1f}"


def _money(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def _table(title: str, columns: list[str]) -> Table:
    t = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else "right")
    return t


def _print_result(r: funnel.FunnelResult, stalled_rows: int) -> None:
    rng = (f"{r.start:%Y-%m-%d}" if r.start else "start") + " → " + (
        f"{r.end:%Y-%m-%d}" if r.end else "now")
    out.print(f"[bold]{r.level.capitalize()} funnel[/] as of {r.as_of:%Y-%m-%d %H:%M} · entries "
              f"{rng} · {r.journeys:,} journeys of {r.entities:,} entities · re-entry "
              f"{r.reentry} · window {r.window_days or 'none'} d, to won "
              f"{r.won_window_days or 'none'} d")
    for section in (_waterfall, _velocity, _time_in_stage):
        out.print(section(r))
    if r.stalled and stalled_rows:
        out.print(_stalled(r, stalled_rows))
    if r.cohorts:
        out.print(_cohorts(r))
    for d, rows in r.cuts.items():
        out.print(_cut(r, d, rows))
    if r.leakage:
        out.print(_leakage(r))
    out.print(_status(r))
    if any(p.events for p in r.post_sale):
        out.print(_post_sale(r))
    if r.won_reversals:
        out.print(_reversals(r))
    # which currency the amounts are in, or why they were left out
    if r.money_note:
        colour = "yellow" if r.money_note.startswith("amounts left out") else "dim"
        out.print(f"[{colour}]{escape(r.money_note)}[/]", soft_wrap=True)
    if r.unmapped:
        shown = ", ".join(f"{u.entity_type}:{u.value!r} ({u.rows:,})" for u in r.unmapped[:10])
        more = f" and {len(r.unmapped) - 10} more" if len(r.unmapped) > 10 else ""
        # escaped: the values are the source's and the table name looks like Rich markup
        out.print(f"[yellow]note[/] source stage values not in the funnel: "
                  f"{escape(shown)}{more}. Map them in {escape('[funnel.values]')} of "
                  "revloop.toml.", soft_wrap=True)


def _reversals(r: funnel.FunnelResult) -> Table:
    t = _table(f"Won, then not won: {len(r.won_reversals):,} deals whose history reached won "
               "and whose current state is not (counted as they are now)",
               ["opportunity", "won at", "stage now", "amount"])
    for w in r.won_reversals[:10]:
        t.add_row(escape(w.opportunity_id), f"{w.won_at:%Y-%m-%d}", escape(w.stage_now or "—"),
                  _money(w.amount))
    if len(r.won_reversals) > 10:
        t.add_row(f"… {len(r.won_reversals) - 10:,} more (--json lists them)", "", "", "")
    return t


def _label(r: funnel.FunnelResult, name: str | None) -> str:
    return r.labels.get(name or "", name or "")


def _waterfall(r: funnel.FunnelResult) -> Table:
    t = _table("Funnel", ["stage", "entered", "recorded", "→ next", "rate", "won", "won rate",
                          "open here", "exited here"])
    for row in r.funnel:
        t.add_row(_label(r, row.stage), f"{row.entered:,}", f"{row.observed:,}",
                  "—" if row.converted is None else f"{row.converted:,}",
                  _pct(row.conversion_rate), f"{row.won:,}", _pct(row.won_rate),
                  f"{row.open:,}", f"{row.exited:,}")
    return t


def _velocity(r: funnel.FunnelResult) -> Table:
    t = _table("Velocity (days from entering the stage)",
               ["stage → next", "n", "median", "p75", "p90", "→ won n", "median", "p90"])
    for s in r.stages[:-1]:
        nxt, won = r.velocity_of(s, "next"), r.velocity_of(s, "won")
        if nxt is None or won is None:
            continue
        t.add_row(f"{_label(r, s)} → {_label(r, nxt.to_stage)}", f"{nxt.n:,}",
                  _days(nxt.median_days), _days(nxt.p75_days), _days(nxt.p90_days),
                  f"{won.n:,}", _days(won.median_days), _days(won.p90_days))
    return t


def _time_in_stage(r: funnel.FunnelResult) -> Table:
    t = _table(f"Open journeys: time in stage (days) · stalled = longer than the stage's "
               f"p{r.stall_percentile} velocity",
               ["stage", "open", "median", "p90", "threshold", "stalled"])
    for x in r.time_in_stage:
        t.add_row(_label(r, x.stage), f"{x.open:,}", _days(x.median_days),
                  _days(x.p90_days), _days(x.stall_threshold_days), f"{x.stalled:,}")
    return t


def _stalled(r: funnel.FunnelResult, rows: int) -> Table:
    t = _table(f"Longest stalled ({min(rows, len(r.stalled))} of {r.stalled_total:,})",
               ["entity", "stage", "since", "days", "owner", "team", "amount"])
    for sx in r.stalled[:rows]:
        t.add_row(sx.journey_id, _label(r, sx.stage), f"{sx.since:%Y-%m-%d}",
                  _days(sx.days_in_stage), sx.owner_name or sx.owner_id or "—",
                  sx.team_name or sx.team_id or "—", _money(sx.amount))
    return t


def _cohorts(r: funnel.FunnelResult) -> Table:
    t = _table(f"Cohorts by {r.cohort_unit} of first stage (share reaching each stage)",
               ["cohort", "size", *[_label(r, s) for s in r.stages]])
    for co in r.cohorts:
        t.add_row(funnel.period_label(co.cohort, r.cohort_unit), f"{co.size:,}",
                  *[_pct(co.rates.get(s)) for s in r.stages])
    return t


def _cut(r: funnel.FunnelResult, dimension: str, rows: list[Any]) -> Table:
    first = r.stages[0] if r.stages else None
    t = _table(f"By {dimension} (from {_label(r, first)})",
               [dimension, "entered", "→ next", "won", "won rate", "median days to won"])
    for c in (c for c in rows if c.stage == first):
        name = c.value if not c.label else f"{c.label} ({c.value})"
        t.add_row(name, f"{c.entered:,}", _pct(c.conversion_rate), f"{c.won:,}",
                  _pct(c.won_rate), _days(c.median_days_won))
    return t


def _leakage(r: funnel.FunnelResult) -> Table:
    t = _table("Leakage (exits in the range)",
               ["stage", "exit", "reason", "exits", "entities", "final"])
    for lk in r.leakage:
        t.add_row(_label(r, lk.stage) if lk.stage else "(before any stage)", lk.exit,
                  lk.reason or "—", f"{lk.events:,}", f"{lk.entities:,}", f"{lk.final:,}")
    return t


def _status(r: funnel.FunnelResult) -> Table:
    st = r.status
    t = _table(f"Revenue-cycle status {st.now:%Y-%m-%d} vs {st.before:%Y-%m-%d} (stages: open "
               f"at the date; won and exits: during the {st.period} before it)",
               ["", "now", "before", "amount now", "amount before", f"entered this {st.period}",
                "the one before"])
    for sr in st.rows:
        t.add_row(_label(r, sr.name), f"{sr.count_now:,}", f"{sr.count_before:,}",
                  _money(sr.amount_now), _money(sr.amount_before), f"{sr.entered_now:,}",
                  f"{sr.entered_before:,}")
    return t


def _post_sale(r: funnel.FunnelResult) -> Table:
    t = _table(f"After the sale ({r.customers:,} customers)",
               ["event", "events", "entities", "amount", "share of customers"])
    for p in r.post_sale:
        t.add_row(p.event, f"{p.events:,}", f"{p.entities:,}", _money(p.amount), _pct(p.rate))
    return t


def _print_stages(doc: dict[str, Any]) -> None:
    out.print("Waterfall: " + " → ".join(doc["stages"]))
    out.print("Exits: " + ", ".join(doc["exits"]) + " · after won: "
              + ", ".join(doc["post_sale"]))
    t = _table("Source values", ["value", "maps to"])
    for k, v in doc["values"].items():
        t.add_row(k, v)
    out.print(t)
    for etype, values in doc["entity_values"].items():
        t = _table(f"Source values of {etype} (win over the general map)", ["value", "maps to"])
        for k, v in values.items():
            t.add_row(k, v)
        out.print(t)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

    @app.command("funnel")
    def funnel_(
        level: Annotated[LevelOpt, typer.Option(
            "--level", "-l", help="Count leads/contacts, accounts (buying groups: the "
            "furthest stage any of their people or deals reached) or opportunities.")
        ] = LevelOpt.lead,
        by: Annotated[list[str] | None, typer.Option(
            "--by", "-b", help="Cut by a dimension (repeat or comma-separate): channel, "
            "lead_source, campaign, segment, industry, country, owner, team, product, "
            "opportunity_type, custom.<attribute>.")] = None,
        cohort: Annotated[PeriodOpt | None, typer.Option(
            "--cohort", help="Cohorts by the week, month or quarter of the first stage.")
        ] = None,
        start: Annotated[dt.datetime | None, typer.Option(
            "--from", formats=DATE_FORMATS, help="Entries from this date (inclusive).")
        ] = None,
        end: Annotated[dt.datetime | None, typer.Option(
            "--to", formats=DATE_FORMATS, help="Entries until this date (exclusive).")
        ] = None,
        as_of: Annotated[dt.datetime | None, typer.Option(
            "--as-of", formats=DATE_FORMATS, help="The report's now: later events are "
            "ignored (default: the latest event).")] = None,
        window: Annotated[float | None, typer.Option(
            "--window", help="Days allowed from a stage to the next (default: any).")
        ] = None,
        won_window: Annotated[float | None, typer.Option(
            "--won-window", help="Days allowed from a stage to won (default: any).")] = None,
        reentry: Annotated[ReentryOpt | None, typer.Option(
            "--reentry", help="first: each entity once, from its first entries; cycle: each "
            "pass after a recycle counts on its own (leads, opportunities).")] = None,
        compare: Annotated[PeriodOpt | None, typer.Option(
            "--compare", help="Status now against one week, month or quarter earlier.")
        ] = None,
        all_stages: Annotated[bool, typer.Option(
            "--all-stages", help="Also show stages no transition records.")] = False,
        stalled: Annotated[int, typer.Option(
            "--stalled", help="Stalled entities to list (the JSON and exports get up to "
            "100 × this).")] = 10,
        export: Annotated[Path | None, typer.Option(
            "--export", help="Write every section to this folder.")] = None,
        export_format: Annotated[ExportFormat, typer.Option(
            "--format", help="Export format.")] = ExportFormat.parquet,
        charts: Annotated[Path | None, typer.Option(
            "--charts", help="Write the charts (funnel, velocity, cohorts, cuts) here.")
        ] = None,
        chart_format: Annotated[str, typer.Option(
            "--chart-format", help="png, svg or png,svg.")] = "png,svg",
        html: Annotated[Path | None, typer.Option(
            "--html", help="Write a self-contained HTML report to this file.")] = None,
        stages: Annotated[bool, typer.Option(
            "--stages", help="Print the stage definitions and value maps in effect, and "
            "exit.")] = False,
        raw: RawOpt = False,
        as_json: JsonOpt = False,
    ) -> None:
        """The integrated funnel: conversion, velocity, time in stage, stalls, cohorts, cuts,
        leakage and revenue-cycle status, from every stage change in the store."""
        if stages:
            doc = run(lambda: funnel.stage_definitions().describe(), as_json)
            if as_json:
                emit_json(doc)
            else:
                _print_stages(doc)
            return

        def body() -> tuple[funnel.FunnelResult, list[Path]]:
            request = funnel.build_request(
                level=level.value, by=tuple(v for b in by or [] for v in b.split(",")),
                cohort=cohort.value if cohort else None, start=start, end=end, as_of=as_of,
                window_days=window, won_window_days=won_window,
                reentry=reentry.value if reentry else None,
                compare=compare.value if compare else None, all_stages=all_stages,
                stalled_limit=max(stalled, 0) * 100 if (as_json or export) else max(stalled, 0),
            )
            with open_store() as store, progress_bar(as_json) as progress:
                task = progress.add_task("funnel", total=None)
                result = funnel.run(store, request, progress=lambda name: progress.update(
                    task, description=f"funnel: {name}", advance=1))
            files: list[Path] = []
            if export is not None:
                files += funnel.export(result, export, export_format.value, raw)
            if charts is not None:
                formats = [f.strip() for f in chart_format.split(",") if f.strip()]
                files += funnel.charts(result, charts, formats)
            if html is not None:
                files.append(funnel.write_html(result, html))
            return result, files

        result, files = run(body, as_json)
        if as_json:
            emit_json(result.to_json())
        else:
            _print_result(result, stalled)
        report_files(files, as_json)
