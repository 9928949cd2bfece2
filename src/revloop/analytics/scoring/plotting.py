"""Plots of an evaluation: reliability diagram and cumulative gains (PNG and SVG)."""

from __future__ import annotations

from pathlib import Path

from revloop.analytics.scoring.metrics import ECE_BINS
from revloop.analytics.scoring.results import EvaluationReport


def plot_evaluation(ev: EvaluationReport, folder: str | Path) -> list[Path]:
    """Write ``<model>_reliability.{png,svg}`` and ``<model>_gains.{png,svg}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not ev.gains:
        return []
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfect")
    bins = ev.reliability
    ax.plot([b["mean_probability"] for b in bins], [b["observed_rate"] for b in bins],
            marker="o", color="#1f77b4", label="model")
    for b in bins:
        ax.annotate(f"{b['count']:,}", (b["mean_probability"], b["observed_rate"]),
                    textcoords="offset points", xytext=(4, -10), fontsize=7, color="#555555")
    ece = ev.metrics.get("ece")
    ax.set_title(f"{ev.model}: reliability ({ECE_BINS} bins, ECE "
                 f"{ece:.3f})" if ece is not None else f"{ev.model}: reliability")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    written += _save(fig, out_dir / f"{ev.model}_reliability")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([g.share for g in ev.gains], [g.found for g in ev.gains], color="#1f77b4",
            label="model")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="random")
    ax.axvline(0.1, color="#d62728", linewidth=0.8, linestyle=":")
    lift = ev.metrics.get("lift_top_decile")
    auc = ev.metrics.get("auc")
    ax.set_title(f"{ev.model}: cumulative gains (AUC {auc:.3f}, top-decile lift {lift:.2f})"
                 if auc is not None and lift is not None else f"{ev.model}: cumulative gains",
                 fontsize=9)
    ax.set_xlabel("share of records, best scores first")
    ax.set_ylabel("share of positives found")
    ax.legend(loc="lower right")
    written += _save(fig, out_dir / f"{ev.model}_gains")
    plt.close(fig)
    return written


def _save(fig: object, stem: Path) -> list[Path]:
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for p in paths:
        fig.savefig(p, dpi=120, bbox_inches="tight")  # type: ignore[attr-defined]
    return paths
