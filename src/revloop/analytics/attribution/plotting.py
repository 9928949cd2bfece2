"""Charts of an attribution result (matplotlib, no display needed; PNG and SVG)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from revloop.analytics.attribution.result import AttributionResult

#: At most this many groups are drawn (the ones with the most credit under any model).
MAX_GROUPS = 20


def _targets(path: str | Path) -> list[Path]:
    p = Path(path)
    if p.suffix.lower() in (".png", ".svg"):
        return [p]
    return [p.with_suffix(".png"), p.with_suffix(".svg")]


def _save(fig: Any, path: str | Path) -> list[Path]:
    written = []
    for target in _targets(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, dpi=150, bbox_inches="tight")
        written.append(target)
    return written


def plot_credits(result: AttributionResult, path: str | Path) -> list[Path]:
    """Grouped horizontal bars: each group's share under every model, with bootstrap
    intervals where computed. ``path`` ending in .png or .svg writes that file; otherwise both
    ``path.png`` and ``path.svg``. Returns the files written."""
    from matplotlib.figure import Figure

    metric = "value" if result.metric == "value" else "conversions"
    models = result.models
    shares = np.array([m.shares(metric) for m in models]) if models \
        else np.zeros((0, len(result.groups)))
    top: Any = (np.argsort(-shares.max(axis=0), kind="stable")[:MAX_GROUPS] if models
                else np.zeros(0, dtype=np.int64))
    groups = [result.label_of(result.groups[i]) for i in top]
    height = max(3.0, 0.35 * len(groups) * max(1, len(models)) ** 0.5 + 1.5)
    fig = Figure(figsize=(9, height))
    ax = fig.subplots()
    bar = 0.8 / max(1, len(models))
    y = np.arange(len(groups))
    for k, m in enumerate(models):
        vals = shares[k, top]
        err = None
        if m.bootstrap is not None and metric == "conversions":
            ci = [m.credits[i].share_ci or (0.0, 0.0) for i in top]
            lo, hi = np.array([c[0] for c in ci]), np.array([c[1] for c in ci])
            err = np.vstack((np.clip(vals - lo, 0, None), np.clip(hi - vals, 0, None)))
        ax.barh(y + k * bar - 0.4 + bar / 2, vals, height=bar, label=m.model,
                xerr=err, capsize=2 if err is not None else 0)
    ax.set_yticks(y, groups)
    ax.invert_yaxis()
    label = result.labels.get(metric, metric)
    ax.set_xlabel(f"share of {label}")
    ax.xaxis.set_major_formatter(_percent())
    by = result.source.by
    ax.set_title(f"Attribution of {label} by {by}")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def plot_sourced_influenced(result: AttributionResult, path: str | Path) -> list[Path]:
    """Bars of sourced, influenced (fractional) and touched value per group."""
    from matplotlib.figure import Figure

    rows = result.sourced_influenced or []
    rows = sorted(rows, key=lambda r: -r.touched_value)[:MAX_GROUPS]
    fig = Figure(figsize=(9, max(3.0, 0.4 * len(rows) + 1.5)))
    ax = fig.subplots()
    y = np.arange(len(rows))
    series = (("sourced_value", "sourced (first touch)"),
              ("influenced_value", "influenced (model credit)"),
              ("touched_value", "touched (not additive)"))
    for k, (key, name) in enumerate(series):
        ax.barh(y + (k - 1) * 0.27, [float(getattr(r, key)) for r in rows], height=0.27,
                label=name)
    ax.set_yticks(y, [result.label_of(r.group) for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(result.labels.get("value", "value"))
    ax.set_title("Sourced vs influenced")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)
