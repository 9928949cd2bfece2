"""Truth recovery: how well each model ranks channels by their true incremental effect.

The world generator writes ``truth_channel_effects`` (channel, incremental_opportunities,
incremental_pipeline, incremental_revenue — the effect measured by removing the channel from
the simulated world). Each model's credits are compared with it by Spearman's rank correlation
over the channels of the truth table (a channel a model never credits counts as 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from revloop.analytics.attribution.credits import Credits
from revloop.analytics.attribution.result import TruthRecovery
from revloop.store import Store

TRUTH_TABLE = "truth_channel_effects"
TRUTH_COLUMN = {"pipeline": "incremental_pipeline", "revenue": "incremental_revenue",
                "conversions": "incremental_opportunities"}


def read_truth(store: Store, metric: str) -> dict[str, float] | None:
    """True incremental effect per channel for ``metric``; None when the store has none."""
    if TRUTH_TABLE not in store.list_tables():
        return None
    t = store.table(TRUTH_TABLE)
    column = TRUTH_COLUMN.get(metric, "incremental_pipeline")
    if column not in t.columns or "channel" not in t.columns:
        return None
    rows = t.select("channel", effect=t[column]).to_pyarrow().to_pylist()
    return {r["channel"]: float(r["effect"] or 0.0) for r in rows if r["channel"]}


def truth_recovery(credits: Sequence[Credits], truth: dict[str, float],
                   metric: str) -> TruthRecovery:
    """Spearman's rho between each model's credits (of ``metric``: conversions or value) and
    the true effects, best first."""
    channels = sorted(truth)
    effect = np.array([truth[c] for c in channels])
    rho: dict[str, float | None] = {}
    for c in credits:
        credit = dict(zip(c.channels, c.value if metric == "value" else c.conversions,
                          strict=True))
        got = np.array([credit.get(ch, 0.0) for ch in channels])
        if len(channels) < 2 or np.all(got == got[0]) or np.all(effect == effect[0]):
            rho[c.model] = None
        else:
            rho[c.model] = float(_spearman()(got, effect).statistic)
    ranked = sorted(rho.items(), key=lambda kv: -(kv[1] if kv[1] is not None else -2.0))
    last = rho.get("last_touch")
    return TruthRecovery(
        table=TRUTH_TABLE, channels=len(channels), spearman=dict(ranked),
        beats_last_touch={k: (v is not None and last is not None and v > last)
                          for k, v in rho.items() if k != "last_touch"},
    )


def _spearman() -> Any:
    """scipy.stats.spearmanr, imported on first use (scipy.stats takes ~1.5 s to load)."""
    from scipy.stats import spearmanr

    return spearmanr
