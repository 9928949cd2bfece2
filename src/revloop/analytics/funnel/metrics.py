"""The funnel's metrics, each one Ibis query over the journey table (or the member passes).

Every function takes the (cached) journey table ``j`` built by ``journeys.journeys`` with the
dimension columns joined, and a :class:`Frame` saying which stages are active, the range and
the windows; each returns typed rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis

from revloop.analytics.funnel.dimensions import LABELLED, dim_col, label_col
from revloop.analytics.funnel.journeys import entered_col, reach_col, sec_col
from revloop.analytics.funnel.percentiles import pcol, percentile_table, scaled
from revloop.analytics.funnel.result import (
    CohortRow,
    CutRow,
    LeakageRow,
    PostSaleRow,
    StageRow,
    StalledEntity,
    StatusRow,
    TimeInStageRow,
    VelocityRow,
)
from revloop.analytics.funnel.stages import StageDefinitions
from revloop.store.queries import epoch_seconds_of

DAY = 86_400.0
EPOCH = dt.datetime(1970, 1, 1)
TRUNC = {"week": "W", "month": "M", "quarter": "Q"}


def _rate(num: int | None, den: int) -> float | None:
    return None if num is None or den == 0 else num / den


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _float(value: Any) -> float:
    return 0.0 if value is None else float(value)


@dataclass(frozen=True)
class Frame:
    """What every metric needs besides the table."""

    defs: StageDefinitions
    active: tuple[str, ...]  # stages with at least one recorded entry (won always)
    start: dt.datetime | None
    end: dt.datetime | None
    as_of: dt.datetime
    window_days: float | None
    won_window_days: float | None

    @property
    def won(self) -> str:
        return self.defs.won

    def next_of(self, stage: str) -> str | None:
        i = self.active.index(stage)
        return self.active[i + 1] if i + 1 < len(self.active) else None

    def in_range(self, col: Any) -> Any:
        cond = col.notnull()
        if self.start is not None:
            cond = cond & (col >= ibis.literal(self.start))
        if self.end is not None:
            cond = cond & (col < ibis.literal(self.end))
        return cond

    def within(self, j: Any, frm: str, to: str, days: float | None) -> Any:
        """``to`` entered, no later than ``days`` after ``frm`` (any time when None)."""
        cond = j[entered_col(to)].notnull()
        if days is not None:
            cond = cond & ((j[sec_col(to)] - j[sec_col(frm)]) <= days * DAY)
        return cond


def active_stages(j: Any, defs: StageDefinitions, all_stages: bool = False
                  ) -> tuple[tuple[str, ...], int, int]:
    """Stages some journey recorded (plus won; every stage with ``all_stages``), the number
    of journeys and of entities."""
    aggs = {s: j.journey_id.count(where=j[reach_col(s)].notnull()) for s in defs.stages}
    row = j.aggregate(**aggs, _journeys=j.journey_id.count(),
                      _entities=j.entity_id.nunique()).to_pyarrow().to_pylist()[0]
    active = tuple(s for s in defs.stages
                   if all_stages or _int(row[s]) > 0 or s == defs.won)
    return active, _int(row["_journeys"]), _int(row["_entities"])


def _funnel_aggs(j: Any, f: Frame) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for s in f.active:
        ent = f.in_range(j[entered_col(s)])
        rank = f.defs.rank(s)
        nxt = f.next_of(s)
        aggs[f"{s}__entered"] = j.journey_id.count(where=ent)
        aggs[f"{s}__observed"] = j.journey_id.count(where=ent & j[reach_col(s)].notnull())
        if nxt is not None:
            aggs[f"{s}__converted"] = j.journey_id.count(
                where=ent & f.within(j, s, nxt, f.window_days))
        aggs[f"{s}__won"] = j.journey_id.count(
            where=ent & f.within(j, s, f.won, f.won_window_days))
        aggs[f"{s}__open"] = j.journey_id.count(
            where=ent & (j.status == "open") & (j.furthest_rank == rank))
        aggs[f"{s}__exited"] = j.journey_id.count(
            where=ent & (j.status == "exited") & (j.furthest_rank == rank))
    return aggs


def _stage_rows(row: dict[str, Any], f: Frame) -> list[StageRow]:
    out = []
    for s in f.active:
        entered = _int(row[f"{s}__entered"])
        nxt = f.next_of(s)
        converted = _int(row[f"{s}__converted"]) if nxt is not None else None
        won = _int(row[f"{s}__won"])
        out.append(StageRow(
            stage=s, label=f.defs.label(s), entered=entered,
            observed=_int(row[f"{s}__observed"]), next_stage=nxt, converted=converted,
            conversion_rate=_rate(converted, entered), won=won, won_rate=_rate(won, entered),
            open=_int(row[f"{s}__open"]), exited=_int(row[f"{s}__exited"])))
    return out


def funnel(j: Any, f: Frame) -> list[StageRow]:
    """Entered, converted to next, won, still open and exited, per active stage."""
    row = j.aggregate(**_funnel_aggs(j, f)).to_pyarrow().to_pylist()[0]
    return _stage_rows(row, f)


def _velocity_long(j: Any, f: Frame, groups: Sequence[str]) -> Any:
    parts = []
    for s in f.active[:-1]:
        ent = f.in_range(j[entered_col(s)])
        nxt = f.next_of(s)
        assert nxt is not None
        for kind, to, days in (("next", nxt, f.window_days), ("won", f.won, f.won_window_days)):
            part = j.filter(ent & f.within(j, s, to, days)).select(
                *[j[g] for g in groups], stage=ibis.literal(s), kind=ibis.literal(kind),
                v=(j[sec_col(to)] - j[sec_col(s)]).cast("float64"))
            parts.append(part)
    return ibis.union(*parts, distinct=False)


def velocity(j: Any, f: Frame, percentiles: Sequence[int]) -> tuple[list[VelocityRow],
                                                                    dict[tuple[str, str], Any]]:
    """Velocity rows, and every requested percentile in seconds by ``(stage, kind)``."""
    if len(f.active) < 2:
        return [], {}
    qs = sorted({10, 25, 50, 75, 90, *percentiles})
    t = percentile_table(_velocity_long(j, f, ()), ["stage", "kind"], "v", qs)
    got = {(r["stage"], r["kind"]): r for r in t.to_pyarrow().to_pylist()}
    rows = []
    for s in f.active[:-1]:
        for kind in ("next", "won"):
            r = got.get((s, kind))
            n = _int(r["n"]) if r else 0
            to = f.next_of(s) if kind == "next" else f.won
            assert to is not None
            rows.append(VelocityRow(
                stage=s, to_stage=to, kind=kind, n=n,
                mean_days=(_float(r["total"]) / n / DAY) if r and n else None,
                **{name: scaled(r[pcol(q)], DAY) if r else None for name, q in (
                    ("p10_days", 10), ("p25_days", 25), ("median_days", 50),
                    ("p75_days", 75), ("p90_days", 90))}))
    return rows, got


def time_in_stage(j: Any, f: Frame, thresholds: dict[str, float | None]
                  ) -> list[TimeInStageRow]:
    """Open journeys per current stage: age percentiles and how many are stalled."""
    now = epoch_seconds_of(f.as_of)
    o = j.filter(j.status == "open").select(rank=j.current_rank,
                                           age=(ibis.literal(now) - j.since_sec))
    t = percentile_table(o, ["rank"], "age", (25, 50, 75, 90))
    got = {int(r["rank"]): r for r in t.to_pyarrow().to_pylist()}
    stalled = _stalled_counts(j, f, thresholds)
    rows = []
    for s in f.active[:-1]:
        r = got.get(f.defs.rank(s))
        n = _int(r["n"]) if r else 0
        thr = thresholds.get(s)
        rows.append(TimeInStageRow(
            stage=s, open=n, mean_days=(_float(r["total"]) / n / DAY) if r and n else None,
            p25_days=scaled(r[pcol(25)], DAY) if r else None,
            median_days=scaled(r[pcol(50)], DAY) if r else None,
            p75_days=scaled(r[pcol(75)], DAY) if r else None,
            p90_days=scaled(r[pcol(90)], DAY) if r else None,
            stall_threshold_days=None if thr is None else thr / DAY,
            stalled=stalled.get(s, 0)))
    return rows


def _stall_filter(j: Any, f: Frame, thresholds: dict[str, float | None]) -> Any | None:
    known = {f.defs.rank(s): t for s, t in thresholds.items() if t is not None}
    if not known:
        return None
    now = epoch_seconds_of(f.as_of)
    thr = ibis.cases(*[(j.current_rank == r, ibis.literal(t)) for r, t in known.items()],
                     else_=ibis.null("float64"))
    o = j.filter(j.status == "open").mutate(age=ibis.literal(now) - j.since_sec, thr=thr)
    return o.filter(o.thr.notnull() & (o.age > o.thr))


def _stalled_counts(j: Any, f: Frame, thresholds: dict[str, float | None]) -> dict[str, int]:
    o = _stall_filter(j, f, thresholds)
    if o is None:
        return {}
    rows = o.group_by("current_rank").agg(n=o.journey_id.count()).to_pyarrow().to_pylist()
    return {f.defs.stages[int(r["current_rank"])]: int(r["n"]) for r in rows}


def stalled(j: Any, f: Frame, thresholds: dict[str, float | None], limit: int
            ) -> list[StalledEntity]:
    """The ``limit`` longest-stalled open journeys, with owner and team."""
    o = _stall_filter(j, f, thresholds)
    if o is None or limit <= 0:
        return []
    o = o.order_by([ibis.desc(o.age), o.journey_id]).limit(limit)
    rows = o.select(
        "entity_id", "journey_id", "current_rank", "since_sec", "age", "thr",
        "open_amount", owner=o[dim_col("owner")], owner_name=o[label_col("owner")],
        team=o[dim_col("team")], team_name=o[label_col("team")],
    ).to_pyarrow().to_pylist()
    return [StalledEntity(
        entity_id=r["entity_id"], journey_id=r["journey_id"],
        stage=f.defs.stages[int(r["current_rank"])],
        since=EPOCH + dt.timedelta(seconds=float(r["since_sec"])),
        days_in_stage=float(r["age"]) / DAY, threshold_days=float(r["thr"]) / DAY,
        owner_id=None if r["owner"] == "(none)" else r["owner"], owner_name=r["owner_name"],
        team_id=None if r["team"] == "(none)" else r["team"], team_name=r["team_name"],
        amount=r["open_amount"]) for r in rows]


def cohorts(j: Any, f: Frame, unit: str) -> list[CohortRow]:
    """Journeys by the period they entered the first stage, and how far each cohort got."""
    c = j.filter(f.in_range(j.first_at))
    c = c.mutate(_cohort=c.first_at.truncate(TRUNC[unit]))
    aggs = {s: c.journey_id.count(where=c[entered_col(s)].notnull()) for s in f.active}
    rows = c.group_by("_cohort").agg(_size=c.journey_id.count(), **aggs).order_by(
        "_cohort").to_pyarrow().to_pylist()
    out = []
    for r in rows:
        size = _int(r["_size"])
        reached = {s: _int(r[s]) for s in f.active}
        out.append(CohortRow(cohort=r["_cohort"].date(), size=size, reached=reached,
                             rates={s: _rate(n, size) for s, n in reached.items()}))
    return out


def cut(j: Any, f: Frame, dimension: str) -> list[CutRow]:
    """The funnel (and median velocities) per value of ``dimension``."""
    col = dim_col(dimension)
    has_label = dimension in LABELLED and label_col(dimension) in j.columns
    aggs = _funnel_aggs(j, f)
    if has_label:
        aggs["_label"] = j[label_col(dimension)].max()
    rows = j.group_by(col).agg(**aggs).order_by(col).to_pyarrow().to_pylist()
    med: dict[tuple[str, str, str], float | None] = {}
    if len(f.active) > 1:
        t = percentile_table(_velocity_long(j, f, (col,)), [col, "stage", "kind"], "v", (50,))
        for r in t.to_pyarrow().to_pylist():
            med[(r[col], r["stage"], r["kind"])] = scaled(r[pcol(50)], DAY)
    out = []
    for r in rows:
        value = r[col]
        for sr in _stage_rows(r, f):
            out.append(CutRow(
                dimension=dimension, value=value, label=r.get("_label"), stage=sr.stage,
                entered=sr.entered, converted=sr.converted, conversion_rate=sr.conversion_rate,
                won=sr.won, won_rate=sr.won_rate,
                median_days_next=med.get((value, sr.stage, "next")),
                median_days_won=med.get((value, sr.stage, "won"))))
    return out


def leakage(passes: Any, j: Any, f: Frame) -> list[LeakageRow]:
    """Exits by the stage they happened at and their reason (exits in the range)."""
    p = passes.filter(passes.exit_name.notnull() & ~passes.won & f.in_range(passes.exit_at))
    ev = p.group_by(["furthest", "exit_name", "exit_reason"]).agg(
        events=p.entity_id.count(), entities=p.entity_id.nunique()).to_pyarrow().to_pylist()
    x = j.filter((j.status == "exited") & f.in_range(j.exit_at))
    fin = x.group_by(["furthest_rank", "exit_name", "exit_reason"]).agg(
        final=x.journey_id.count()).to_pyarrow().to_pylist()
    rows: dict[tuple[Any, str, Any], LeakageRow] = {}
    for r in ev:
        key = (r["furthest"], r["exit_name"], r["exit_reason"])
        stage = None if r["furthest"] is None else f.defs.stages[int(r["furthest"])]
        rows[key] = LeakageRow(stage=stage, exit=r["exit_name"], reason=r["exit_reason"],
                               events=_int(r["events"]), entities=_int(r["entities"]), final=0)
    for r in fin:
        key = (r["furthest_rank"], r["exit_name"], r["exit_reason"])
        if key in rows:
            rows[key].final = _int(r["final"])
        else:  # pragma: no cover - a final exit always has its pass exit in the range
            rows[key] = LeakageRow(stage=f.defs.stages[int(r["furthest_rank"])],
                                   exit=r["exit_name"], reason=r["exit_reason"], events=0,
                                   entities=0, final=_int(r["final"]))

    def order(row: LeakageRow) -> tuple[int, str, str]:
        rank = -1 if row.stage is None else f.defs.rank(row.stage)
        return (rank, row.exit, row.reason or "")
    return sorted(rows.values(), key=order)


def status_columns(f: Frame) -> list[str]:
    """The journey columns :func:`status_counts` reads."""
    return ["journey_id", "status", "current_rank", "open_amount", "won_amount",
            "lost_amount", "exit_name", "exit_at", *[entered_col(s) for s in f.defs.stages]]


def status_counts(j: Any, f: Frame, period_start: dt.datetime, period_end: dt.datetime
                  ) -> dict[str, Any]:
    """Open journeys and amounts per current stage at the snapshot; entries, wins and exits
    during ``(period_start, period_end]`` (the period ending at the snapshot)."""
    lo, hi = ibis.literal(period_start), ibis.literal(period_end)

    def inside(col: Any) -> Any:
        return col.notnull() & (col > lo) & (col <= hi)
    aggs: dict[str, Any] = {}
    for s in f.active[:-1]:
        here = (j.status == "open") & (j.current_rank == f.defs.rank(s))
        aggs[f"{s}__open"] = j.journey_id.count(where=here)
        aggs[f"{s}__amount"] = j.open_amount.sum(where=here)
        aggs[f"{s}__entered"] = j.journey_id.count(where=inside(j[entered_col(s)]))
    won_in = inside(j[entered_col(f.won)])
    aggs["__won"] = j.journey_id.count(where=won_in)
    aggs["__won_amount"] = j.won_amount.sum(where=won_in)
    for x in f.defs.exits:
        gone = (j.status == "exited") & (j.exit_name == x) & inside(j.exit_at)
        aggs[f"{x}__exit"] = j.journey_id.count(where=gone)
        aggs[f"{x}__exit_amount"] = j.lost_amount.sum(where=gone)
    row: dict[str, Any] = j.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    return row


def status_rows(now: dict[str, Any], before: dict[str, Any], f: Frame) -> list[StatusRow]:
    """Status rows from the two snapshots of :func:`status_counts`."""
    rows = []
    for s in f.active[:-1]:
        rows.append(StatusRow(
            name=s, kind="stage", count_now=_int(now[f"{s}__open"]),
            count_before=_int(before.get(f"{s}__open")),
            amount_now=_float(now[f"{s}__amount"]),
            amount_before=_float(before.get(f"{s}__amount")),
            entered_now=_int(now[f"{s}__entered"]),
            entered_before=_int(before.get(f"{s}__entered"))))
    rows.append(StatusRow(
        name=f.won, kind="won", count_now=_int(now["__won"]),
        count_before=_int(before.get("__won")), amount_now=_float(now["__won_amount"]),
        amount_before=_float(before.get("__won_amount")), entered_now=_int(now["__won"]),
        entered_before=_int(before.get("__won"))))
    for x in f.defs.exits:
        rows.append(StatusRow(
            name=x, kind="exit", count_now=_int(now[f"{x}__exit"]),
            count_before=_int(before.get(f"{x}__exit")),
            amount_now=_float(now[f"{x}__exit_amount"]),
            amount_before=_float(before.get(f"{x}__exit_amount")),
            entered_now=_int(now[f"{x}__exit"]), entered_before=_int(before.get(f"{x}__exit"))))
    return rows


def post_sale(events: Any, j: Any, f: Frame) -> tuple[list[PostSaleRow], int]:
    """Renewal / expansion / churn events in the range, against the customers (won)."""
    customers = int(j.filter(j.status == "won").entity_id.nunique().execute() or 0)
    e = events.filter((events.kind == "post_sale") & f.in_range(events.occurred_at))
    got = {r["name"]: r for r in e.group_by("name").agg(
        events=e.entity_id.count(), entities=e.entity_id.nunique(),
        amount=e.amount.sum()).to_pyarrow().to_pylist()}
    rows = []
    for name in f.defs.post_sale:
        r = got.get(name)
        entities = _int(r["entities"]) if r else 0
        rows.append(PostSaleRow(event=name, events=_int(r["events"]) if r else 0,
                                entities=entities, amount=_float(r["amount"]) if r else 0.0,
                                rate=_rate(entities, customers)))
    return rows, customers
