"""Charts of a funnel result (matplotlib, Agg backend): the funnel with its rates, velocity
box plots, the cohort heat map and one conversion chart per cut. PNG and SVG."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from revloop.analytics.funnel.request import FunnelRequestError
from revloop.analytics.funnel.result import FunnelResult, period_label

COLOURS = ("#1f4e79", "#2e75b6", "#4a90c8", "#6fa8dc", "#9fc5e8", "#2e8b57")
IMAGE_FORMATS = ("png", "svg")
# SVG text as paths: the files render the same everywhere without fonts
plt.rcParams["svg.fonttype"] = "path"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def funnel_figure(result: FunnelResult) -> Figure:
    """Horizontal funnel: journeys entering each stage, with the rate to the next and to won."""
    rows = result.funnel
    fig, ax = plt.subplots(figsize=(9, 1.0 + 0.7 * max(len(rows), 1)))
    if not rows or not any(r.entered for r in rows):
        ax.text(0.5, 0.5, "no journeys in the range", ha="center", va="center")
        ax.set_axis_off()
        return fig
    top = max(r.entered for r in rows) or 1
    for i, r in enumerate(rows):
        width = r.entered / top
        colour = COLOURS[min(i, len(COLOURS) - 1)] if r.stage != result.stages[-1] \
            else COLOURS[-1]
        ax.barh(i, width, left=(1 - width) / 2, color=colour, height=0.7)
        ax.text(0.5, i, f"{r.label}  {r.entered:,}", ha="center", va="center",
                color="white" if width > 0.25 else "black", fontsize=10, fontweight="bold")
        if r.next_stage is not None:
            ax.text(1.02, i + 0.5, f"→ {_pct(r.conversion_rate)}", va="center", fontsize=9)
            ax.text(1.22, i, f"won {_pct(r.won_rate)}", va="center", fontsize=8,
                    color="#555555")
    ax.set_xlim(0, 1.4)
    ax.set_ylim(len(rows) - 0.5, -0.6)
    ax.set_axis_off()
    window = f", window {result.window_days:g} d" if result.window_days else ""
    ax.set_title(f"{result.level.capitalize()} funnel (as of {result.as_of:%Y-%m-%d}{window})",
                 loc="left")
    return fig


def velocity_figure(result: FunnelResult) -> Figure:
    """Box plots of days from each stage to the next (box p25–p75, line median, whiskers
    p10–p90, diamond mean)."""
    rows = [v for v in result.velocity if v.kind == "next" and v.n > 0]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.6 * max(len(rows), 1)))
    if not rows:
        ax.text(0.5, 0.5, "no conversions to measure", ha="center", va="center")
        ax.set_axis_off()
        return fig
    stats: list[dict[str, Any]] = [{"label": f"{result.labels.get(v.stage, v.stage)} → "
                       f"{result.labels.get(v.to_stage, v.to_stage)} (n={v.n:,})",
              "med": v.median_days, "q1": v.p25_days, "q3": v.p75_days,
              "whislo": v.p10_days, "whishi": v.p90_days, "mean": v.mean_days,
              "fliers": []} for v in rows]
    ax.bxp(stats, orientation="horizontal", showmeans=True, patch_artist=True,
           boxprops={"facecolor": "#9fc5e8"}, medianprops={"color": "#1f4e79"},
           meanprops={"marker": "D", "markerfacecolor": "#1f4e79",
                      "markeredgecolor": "#1f4e79", "markersize": 5})
    ax.invert_yaxis()
    ax.set_xlabel("days (box p25–p75, line median, whiskers p10–p90, ◆ mean)")
    ax.set_title("Velocity: time from entering a stage to entering the next", loc="left")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def cohort_figure(result: FunnelResult) -> Figure:
    """Heat map: share of each cohort that reached each stage."""
    cohorts = result.cohorts
    stages = result.stages
    fig, ax = plt.subplots(figsize=(1.6 + 1.1 * len(stages), 1.2 + 0.32 * max(len(cohorts), 1)))
    if not cohorts:
        ax.text(0.5, 0.5, "no cohorts in the range", ha="center", va="center")
        ax.set_axis_off()
        return fig
    data = np.array([[c.rates.get(s) or 0.0 for s in stages] for c in cohorts])
    im = ax.imshow(data, aspect="auto", cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(stages)), [result.labels.get(s, s) for s in stages])
    ax.set_yticks(range(len(cohorts)),
                  [f"{period_label(c.cohort, result.cohort_unit)} ({c.size:,})"
                   for c in cohorts])
    if len(cohorts) <= 40:
        for i, c in enumerate(cohorts):
            for k, s in enumerate(stages):
                v = c.rates.get(s)
                ax.text(k, i, "" if v is None else f"{100 * v:.0f}%", ha="center",
                        va="center", fontsize=7, color="white" if (v or 0) > 0.55 else "black")
    fig.colorbar(im, ax=ax, fraction=0.03, label="share of cohort")
    ax.set_title(f"Cohorts by {result.cohort_unit} of first stage: share reaching each stage",
                 loc="left")
    fig.tight_layout()
    return fig


def cut_figure(result: FunnelResult, dimension: str) -> Figure:
    """Conversion from the first stage to won per value of ``dimension`` (largest first)."""
    first = result.stages[0] if result.stages else None
    rows = [r for r in result.cuts.get(dimension, []) if r.stage == first and r.entered]
    rows = sorted(rows, key=lambda r: -r.entered)[:25]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.35 * max(len(rows), 1)))
    if not rows:
        ax.text(0.5, 0.5, f"no journeys by {dimension}", ha="center", va="center")
        ax.set_axis_off()
        return fig
    labels = [f"{r.label or r.value} ({r.entered:,})" for r in rows]
    ax.barh(range(len(rows)), [100 * (r.won_rate or 0) for r in rows], color="#2e75b6")
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"% of {result.labels.get(first or '', first)} journeys won")
    ax.set_title(f"Conversion to won by {dimension}", loc="left")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def figures(result: FunnelResult) -> dict[str, Figure]:
    """Every chart of the result, by file stem."""
    out = {"funnel": funnel_figure(result), "velocity": velocity_figure(result),
           "cohorts": cohort_figure(result)}
    for d in result.cuts:
        out[f"cut_{d.replace('.', '_')}"] = cut_figure(result, d)
    return out


def save_charts(result: FunnelResult, folder: Path,
                formats: Sequence[str] = IMAGE_FORMATS) -> list[Path]:
    """Write every chart in every format; the paths written."""
    bad = [f for f in formats if f not in IMAGE_FORMATS]
    if bad or not formats:
        raise FunnelRequestError(f"chart format {', '.join(bad) or '(none)'}: use png or svg")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, fig in figures(result).items():
        for fmt in formats:
            path = folder / f"{stem}.{fmt}"
            fig.savefig(path, format=fmt, dpi=130, bbox_inches="tight")
            written.append(path)
        plt.close(fig)
    return written


def svg_text(fig: Any) -> str:
    """A figure as inline SVG markup (for the HTML report)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]
