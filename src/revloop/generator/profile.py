"""The realism profile of a generated company, measured from its files the way an analyst
would measure a real CRM export (not from the simulation's internals)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from revloop.errors import InputFileError


@dataclass
class CompanyProfile:
    """Headline figures of a company and the measures the realism tests check."""

    accounts: int
    contacts: int
    touchpoints: int
    opportunities: int
    new_business_opportunities: int
    won_revenue: float
    mql_to_sql: float  # people who reached MQL and later SQL / people who reached MQL
    win_rate: float  # closed new-business opportunities won / closed
    median_cycle_days: float  # closed new business, created → close date
    deal_top_decile_share: float  # share of new-business amount in the largest 10 % of deals
    deal_skewness: float
    content_top_decile_share: float  # share of content touches on the top 10 % of assets
    weekday_to_weekend_traffic: float  # touches per weekday / touches per weekend day
    channel_effects: list[dict[str, Any]]  # truth: incremental opportunities by channel

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read(folder: Path, name: str, columns: list[str] | None = None) -> pa.Table:
    for suffix in ("parquet", "csv"):
        path = folder / f"{name}.{suffix}"
        if path.exists():
            if suffix == "parquet":
                return pq.read_table(path, columns=columns)
            table = pacsv.read_csv(path)
            return table.select(columns) if columns else table
    raise InputFileError(str(folder), f"no {name}.parquet or {name}.csv here; is this a folder "
                         "written by `revloop generate`?", code="missing_file")


def _top_decile_share(values: np.ndarray) -> float:
    if len(values) == 0 or values.sum() <= 0:
        return 0.0
    top = np.sort(values)[::-1][: max(1, math.ceil(len(values) / 10))]
    return float(top.sum() / values.sum())


def _skewness(values: np.ndarray) -> float:
    if len(values) < 3 or values.std() == 0:
        return 0.0
    centred = values - values.mean()
    return float((centred**3).mean() / values.std() ** 3)


def company_profile(folder: str | Path) -> CompanyProfile:
    """Measure the company written in ``folder`` by ``revloop generate``."""
    out = Path(folder)
    st = _read(out, "stage_transitions", ["entity_type", "entity_id", "to_stage",
                                            "occurred_at"])
    people = st.filter(pc.is_in(st["entity_type"], pa.array(["lead", "contact"])))
    first_at: dict[str, dict[str, Any]] = {}
    for stage in ("mql", "sql"):
        rows = people.filter(pc.equal(people["to_stage"], stage))
        grouped = rows.group_by("entity_id").aggregate([("occurred_at", "min")])
        first_at[stage] = dict(zip(grouped["entity_id"].to_pylist(),
                                   grouped["occurred_at_min"].to_pylist(), strict=True))
    mql = first_at["mql"]
    sql = first_at["sql"]
    converted = sum(1 for k, t in mql.items() if k in sql and sql[k] >= t)
    opp = _read(out, "opportunities", ["opportunity_type", "amount", "created_at", "close_date",
                                       "is_closed", "is_won"])
    new = opp.filter(pc.equal(opp["opportunity_type"], "new"))
    closed = new.filter(pc.fill_null(new["is_closed"], False))
    won = pc.fill_null(closed["is_won"], False)
    created = closed["created_at"].cast(pa.timestamp("s")).cast(pa.int64()).to_numpy()
    closes = closed["close_date"].cast(pa.date32()).cast(pa.int32()).to_numpy().astype(
        np.int64) * 86_400
    amounts = new["amount"].to_numpy(zero_copy_only=False)
    tp = _read(out, "touchpoints", ["occurred_at", "content_id"])
    content_counts = tp["content_id"].drop_null().value_counts().field("counts").to_numpy()
    days = tp["occurred_at"].cast(pa.timestamp("s")).cast(pa.int64()).to_numpy() // 86_400
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    weekend_per_day = float((weekday >= 5).sum()) / 2
    weekday_per_day = float((weekday < 5).sum()) / 5
    effects = _read(out / "truth", "truth_channel_effects").to_pylist()
    all_won = opp.filter(pc.and_(pc.fill_null(opp["is_closed"], False),
                                 pc.fill_null(opp["is_won"], False)))
    return CompanyProfile(
        accounts=_read(out, "accounts", ["account_id"]).num_rows,
        contacts=_read(out, "contacts", ["contact_id"]).num_rows,
        touchpoints=tp.num_rows,
        opportunities=opp.num_rows,
        new_business_opportunities=new.num_rows,
        won_revenue=float(pc.sum(all_won["amount"]).as_py() or 0.0),
        mql_to_sql=converted / len(mql) if mql else 0.0,
        win_rate=float(pc.mean(won.cast(pa.float64())).as_py() or 0.0),
        median_cycle_days=float(np.median((closes - created) / 86_400)) if len(created) else 0.0,
        deal_top_decile_share=_top_decile_share(amounts),
        deal_skewness=_skewness(amounts),
        content_top_decile_share=_top_decile_share(content_counts.astype(float)),
        weekday_to_weekend_traffic=weekday_per_day / max(weekend_per_day, 1.0),
        channel_effects=effects,
    )
