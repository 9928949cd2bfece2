"""A self-contained HTML funnel report: tables and inline SVG charts, no network needed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from revloop.analytics.funnel.plotting import figures, svg_text
from revloop.analytics.funnel.result import FunnelResult, period_label

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem;
color:#1b1b1b;max-width:1200px}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555;font-size:.9rem} table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#f4f6f8}
.chart svg{max-width:100%;height:auto} .note{color:#666;font-size:.8rem}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]],
           fmt: Callable[[Any], str] = _fmt) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(fmt(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Pct(float):
    """Marks a rate so the table shows it as a percentage."""


def _cell(value: Any) -> str:
    return _pct(float(value)) if isinstance(value, _Pct) else _fmt(value)


def _rate(value: float | None) -> _Pct | None:
    return None if value is None else _Pct(value)


def render(result: FunnelResult) -> str:
    """The report as one HTML document."""
    r = result
    label = r.labels.get
    parts = [f"<h1>{escape(r.level.capitalize())} funnel</h1>",
             f"<p class='meta'>As of {_fmt(r.as_of)} · entries "
             f"{escape(_fmt(r.start) if r.start else 'from the start')} → "
             f"{escape(_fmt(r.end) if r.end else 'now')} · re-entry: {escape(r.reentry)} · "
             f"window: {escape(str(r.window_days or 'none'))} d (to won: "
             f"{escape(str(r.won_window_days or 'none'))} d) · {r.journeys:,} journeys of "
             f"{r.entities:,} entities</p>"]
    charts = figures(r)
    parts.append("<h2>Funnel</h2>")
    parts.append(f"<div class='chart'>{svg_text(charts.pop('funnel'))}</div>")
    parts.append(_table(
        ["stage", "entered", "recorded", "→ next", "rate", "won", "won rate", "open here",
         "exited here"],
        [[label(s.stage, s.stage), s.entered, s.observed, s.converted,
          _rate(s.conversion_rate), s.won, _rate(s.won_rate), s.open, s.exited]
         for s in r.funnel], _cell))
    parts.append("<p class='note'>Entered: journeys that reached the stage (or a later one) in "
                 "the range; recorded: of which the stage itself was recorded.</p>")
    parts.append("<h2>Velocity (days)</h2>")
    parts.append(f"<div class='chart'>{svg_text(charts.pop('velocity'))}</div>")
    parts.append(_table(
        ["from", "to", "n", "mean", "p10", "p25", "median", "p75", "p90"],
        [[label(v.stage, v.stage), label(v.to_stage, v.to_stage), v.n, v.mean_days,
          v.p10_days, v.p25_days, v.median_days, v.p75_days, v.p90_days]
         for v in r.velocity]))
    parts.append("<h2>Time in stage (open journeys)</h2>")
    parts.append(_table(
        ["stage", "open", "median days", "p90 days", f"stall threshold (p{r.stall_percentile})",
         "stalled"],
        [[label(t.stage, t.stage), t.open, t.median_days, t.p90_days, t.stall_threshold_days,
          t.stalled] for t in r.time_in_stage]))
    if r.stalled:
        parts.append(f"<h3>Longest stalled ({len(r.stalled):,} of {r.stalled_total:,})</h3>")
        parts.append(_table(
            ["entity", "stage", "since", "days", "owner", "team", "amount"],
            [[s.entity_id, label(s.stage, s.stage), s.since, s.days_in_stage,
              s.owner_name or s.owner_id, s.team_name or s.team_id, s.amount]
             for s in r.stalled]))
    parts.append(f"<h2>Cohorts by {escape(r.cohort_unit)}</h2>")
    parts.append(f"<div class='chart'>{svg_text(charts.pop('cohorts'))}</div>")
    parts.append(_table(
        ["cohort", "size", *[label(s, s) for s in r.stages]],
        [[period_label(c.cohort, r.cohort_unit), c.size,
          *[_rate(c.rates.get(s)) for s in r.stages]] for c in r.cohorts],
        _cell))
    for d, rows in r.cuts.items():
        parts.append(f"<h2>By {escape(d)}</h2>")
        key = f"cut_{d.replace('.', '_')}"
        if key in charts:
            parts.append(f"<div class='chart'>{svg_text(charts.pop(key))}</div>")
        first = r.stages[0] if r.stages else None
        parts.append(_table(
            [d, "entered", "won", "won rate", "median days to won"],
            [[c.label or c.value, c.entered, c.won, _rate(c.won_rate), c.median_days_won]
             for c in rows if c.stage == first], _cell))
    parts.append("<h2>Leakage</h2>")
    parts.append(_table(
        ["stage", "exit", "reason", "exits", "entities", "final"],
        [[label(x.stage, x.stage) if x.stage else "(before any stage)", x.exit,
          x.reason or "", x.events, x.entities, x.final] for x in r.leakage]))
    st = r.status
    parts.append(f"<h2>Revenue-cycle status: {_fmt(st.now)} vs {_fmt(st.before)}</h2>")
    parts.append(_table(
        ["stage / outcome", "now", "before", "amount now", "amount before",
         f"entered last {st.period}", "entered the one before"],
        [[label(s.name, s.name), s.count_now, s.count_before, s.amount_now, s.amount_before,
          s.entered_now, s.entered_before] for s in st.rows]))
    parts.append("<p class='note'>Stages: journeys open in the stage at the snapshot; won and "
                 "exits: during the period ending at the snapshot.</p>")
    parts.append(f"<h2>After the sale ({r.customers:,} customers)</h2>")
    parts.append(_table(["event", "events", "entities", "amount", "share of customers"],
                        [[p.event, p.events, p.entities, p.amount, _rate(p.rate)]
                         for p in r.post_sale], _cell))
    if r.unmapped:
        parts.append("<h2>Unmapped source values</h2><p class='note'>Not in the funnel; map "
                     "them in <code>[funnel.values]</code> of revloop.toml.</p>")
        parts.append(_table(["entity type", "value", "rows"],
                            [[u.entity_type, u.value, u.rows] for u in r.unmapped]))
    body = "\n".join(parts)
    title = escape(f"revloop — {r.level} funnel as of {r.as_of:%Y-%m-%d}")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{title}</title><style>{_CSS}</style></head><body>\n{body}\n"
            "</body></html>\n")


def write_report(result: FunnelResult, path: Path) -> Path:
    """Write :func:`render` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
    return path
