"""Spend per channel or campaign, and the cost and return metrics of credited outcomes.

Spend is ``campaign_spend`` (daily, per campaign) summed over the analysis period; a campaign
without daily rows falls back to its ``actual_cost``, spread evenly over its start–end dates
(and counted whole when it has no dates). Channel spend is the spend of the campaigns of that
channel. Content and touchpoint properties have no spend.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from revloop.analytics.attribution.journeys import NONE_GROUP
from revloop.analytics.attribution.request import GROUP_COLUMNS
from revloop.model import tables
from revloop.store import Store


def spend_by_group(store: Store, by: str, start: date | None = None,
                   end: date | None = None) -> dict[str, float] | None:
    """Spend per channel or per campaign id over [start, end]; None for other groupings."""
    key = GROUP_COLUMNS.get(by.strip())
    if key not in ("channel", "campaign_id"):
        return None
    present = set(store.list_tables())
    if tables.CAMPAIGNS not in present:
        return {}
    camps = store.table(tables.CAMPAIGNS)
    per_campaign: dict[str, float] = {}
    with_rows: set[str] = set()
    if tables.CAMPAIGN_SPEND in present:
        s = store.table(tables.CAMPAIGN_SPEND)
        every = s.select("campaign_id").distinct().to_pyarrow().column(0).to_pylist()
        with_rows = {c for c in every if c is not None}
        if start:
            s = s.filter(s.day >= ibis.literal(start))
        if end:
            s = s.filter(s.day <= ibis.literal(end))
        agg = s.group_by("campaign_id").agg(spend=s.amount.sum()).to_pyarrow().to_pylist()
        per_campaign = {r["campaign_id"]: float(r["spend"] or 0.0) for r in agg}
    info = camps.select("campaign_id", "channel", "actual_cost", "start_date",
                        "end_date").to_pyarrow().to_pylist()
    for row in info:
        cid = row["campaign_id"]
        if cid in with_rows or row["actual_cost"] is None:
            continue
        per_campaign[cid] = per_campaign.get(cid, 0.0) + _prorated(
            float(row["actual_cost"]), row["start_date"], row["end_date"], start, end)
    if key == "campaign_id":
        return per_campaign
    channel_of = {r["campaign_id"]: r["channel"] or NONE_GROUP for r in info}
    out: dict[str, float] = {}
    for cid, amount in per_campaign.items():
        ch = channel_of.get(cid, NONE_GROUP)
        out[ch] = out.get(ch, 0.0) + amount
    return out


def _prorated(cost: float, c_start: date | None, c_end: date | None, start: date | None,
              end: date | None) -> float:
    """The part of a campaign's cost that falls in [start, end] (evenly over its days)."""
    if c_start is None or c_end is None or (start is None and end is None) or c_end < c_start:
        return cost
    lo = max(c_start, start) if start else c_start
    hi = min(c_end, end) if end else c_end
    if hi < lo:
        return 0.0
    return cost * ((hi - lo).days + 1) / ((c_end - c_start).days + 1)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def spend_rows(model: str, groups: list[str], spend: dict[str, float],
               credited: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Cost per opportunity, cost per won deal, ROAS and ROI of one model's credits.

    ``credited`` maps a group to its credited ``opportunities``, ``pipeline``, ``won_deals``
    and ``revenue`` (missing keys: not measured). ROAS = revenue / spend;
    ROI = (revenue − spend) / spend; pipeline ROAS = pipeline / spend.
    """
    rows = []
    for g in groups:
        c = credited.get(g, {})
        cost = spend.get(g)
        revenue = c.get("revenue")
        rows.append({
            "model": model, "group": g, "spend": cost,
            "opportunities": c.get("opportunities"), "pipeline": c.get("pipeline"),
            "won_deals": c.get("won_deals"), "revenue": revenue,
            "cost_per_opportunity": _ratio(cost, c.get("opportunities")),
            "cost_per_won_deal": _ratio(cost, c.get("won_deals")),
            "pipeline_roas": _ratio(c.get("pipeline"), cost),
            "roas": _ratio(revenue, cost),
            "roi": None if revenue is None or not cost else (revenue - cost) / cost,
        })
    return rows
