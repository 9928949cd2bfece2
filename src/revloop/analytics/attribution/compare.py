"""The model-comparison table: each channel's share under every model, and where they disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from revloop.analytics.attribution.credits import Credits


@dataclass(frozen=True)
class ComparisonRow:
    """One channel across models."""

    channel: str
    shares: dict[str, float]  # model → share of the total
    low_model: str
    high_model: str
    spread: float  # highest share − lowest share (percentage points / 100)
    ranks: dict[str, int]  # model → rank of the channel (1 = most credit)


@dataclass(frozen=True)
class Comparison:
    """Shares by channel and model, the channels models disagree on most first."""

    metric: str
    models: tuple[str, ...]
    rows: tuple[ComparisonRow, ...]
    rank_correlation: dict[str, dict[str, float | None]]  # Spearman; None when undefined


def compare(credits: Sequence[Credits], metric: str = "conversions") -> Comparison:
    """Compare models that credit the same channels (``metric``: conversions or value)."""
    if not credits:
        return Comparison(metric, (), (), {})
    channels = credits[0].channels
    models = tuple(c.model for c in credits)
    shares = np.vstack([c.share(metric) for c in credits])  # models × channels
    # rank 1 = most credit; ties share the better rank
    ranks = np.vstack([_ranks(s) for s in shares])
    rows = []
    for i, ch in enumerate(channels):
        col = shares[:, i]
        rows.append(ComparisonRow(
            channel=ch,
            shares={m: float(v) for m, v in zip(models, col, strict=True)},
            low_model=models[int(np.argmin(col))],
            high_model=models[int(np.argmax(col))],
            spread=float(col.max() - col.min()),
            ranks={m: int(r) for m, r in zip(models, ranks[:, i], strict=True)},
        ))
    rows.sort(key=lambda r: (-r.spread, r.channel))
    corr: dict[str, dict[str, float | None]] = {}
    for a, sa in zip(models, shares, strict=True):
        corr[a] = {}
        for b, sb in zip(models, shares, strict=True):
            corr[a][b] = _spearman(sa, sb)
    return Comparison(metric, models, tuple(rows), corr)


def _ranks(values: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, Any]:
    order = -values
    return np.searchsorted(np.sort(order), order, side="left") + 1


def _spearman(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float | None:
    """Spearman's rho, or None when one side is constant (undefined)."""
    if len(a) < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return None
    from scipy.stats import spearmanr  # on first use: scipy.stats takes ~1.5 s to load

    return float(spearmanr(a, b).statistic)
