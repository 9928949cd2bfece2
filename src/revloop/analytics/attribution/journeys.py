"""Journeys from the store, in Ibis (identical on DuckDB, PostgreSQL and Spark).

A **journey** ends at a milestone or, for entities that did not reach one, at their last touch:

* **account level** — every touch of the account (all its people, and anonymous visitors once
  the touchpoints mart has stitched them to a person of the account) in the lookback window
  before the milestone. Contact roles are never needed.
* **contact level** — the touches of one person. Pipeline and revenue reach a person through
  the opportunity's contact roles (or the opportunity a lead was converted into); a deal with
  k people gives each of their journeys 1/k of the opportunity and of its amount.

Milestones by metric: **pipeline** — opportunity creation (value: amount); **revenue** — the
close of a won opportunity (to the end of the close day; lost deals are journeys that did not
convert, open deals are left out); **conversions** — opportunity creation at account level, the
person's first entry into ``conversion_stage`` at contact level.

**Non-converting journeys** (the nulls the data-driven models need) end at the *cutoff*, one
``conversion_window_days`` before the data end: an entity's touches in the lookback window
before the cutoff (and after its last deal closed before it) that were followed by no milestone
— entities with a deal open at the cutoff or created after it are converting, not failing, and
people who reached the conversion stage are left out. B2B accounts are touched until the last
day of the data (newsletters, visits), so "silent for a while" would leave no null at all; a
window that ends early enough for its outcome to be known is the comparable failure.

Only small per-journey tables and the journeys' touches leave the engine; paths are assembled
in NumPy (``method="arrow"``: rows to Arrow, sorted there) or in SQL (``method="sql"``: one
array per journey — (ts, group) structs collected and sorted on DuckDB and Spark, which has no
ordered aggregate; ``ARRAY_AGG … ORDER BY`` on PostgreSQL, which cannot return arrays of
records). ``benchmarks/attribution.py`` measures both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.paths import (
    CLOSED_WON,
    LEAD_CREATION,
    OPPORTUNITY_CREATION,
    FlagArray,
    FloatArray,
    IntArray,
    Journeys,
)
from revloop.analytics.attribution.request import GROUP_COLUMNS, AttributionRequest
from revloop.model import tables
from revloop.store import Store
from revloop.store.queries import as_float, collect_sorted, days, json_text, null_timestamp

DAY = 86_400.0
NONE_GROUP = "(none)"


@dataclass(frozen=True, eq=False)
class StoreJourneys:
    """Journeys built from the store, with every outcome view the reports need.

    ``journeys`` carries the outcomes of the requested metric; ``views`` holds, per journey,
    the other ones: ``opportunities``/``pipeline`` with their nulls, ``won_deals``/``revenue``
    with theirs (each a (conversions, nulls, value) triple) so spend reports can give cost per
    opportunity and per won deal from one build.
    """

    journeys: Journeys
    views: dict[str, tuple[FloatArray, FloatArray, FloatArray]]
    crm_source: list[str | None]
    is_tail: IntArray
    data_end: datetime
    counts: dict[str, float]
    group_names: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _group_expr(store: Store, t: Any, by: str) -> Any:
    name = by.strip()
    if name.startswith("property:"):
        return json_text(store, t.properties, name.split(":", 1)[1])
    if name in GROUP_COLUMNS:
        return t[GROUP_COLUMNS[name]]
    return json_text(store, t.properties, name)


def _touches(store: Store, req: AttributionRequest) -> Any:
    tp = store.table(tables.TOUCHPOINTS)
    ent_col = "account_id" if req.level == "account" else "contact_id"
    t = tp.filter(tp[ent_col].notnull() & tp.occurred_at.notnull())
    if req.exclude_touch_types:
        t = t.filter(t.touch_type.isnull() | ~t.touch_type.isin(list(req.exclude_touch_types)))
    if req.exclude_channels:
        t = t.filter(t.channel.isnull() | ~t.channel.isin(list(req.exclude_channels)))
    grp = _group_expr(store, t, req.by).cast("string")
    grp = ibis.ifelse(grp.isnull() | (grp == ""), NONE_GROUP, grp)
    direct = ibis.ifelse(t.channel.isin(list(req.direct_channels)), True, False)
    return t.select(entity=t[ent_col], ts=t.occurred_at, grp=grp, direct=direct)


def _opportunity_rows(store: Store, req: AttributionRequest) -> Any:
    """One row per (entity, opportunity) with its weight: 1 at account level, 1/k for the k
    people of the deal at contact level."""
    o = store.table(tables.OPPORTUNITIES)
    o = o.filter(o.created_at.notnull())
    closed = o.is_closed.fill_null(False) | o.is_won.fill_null(False)
    o = o.select(
        opportunity_id=o.opportunity_id, account_id=o.account_id, created_at=o.created_at,
        close_end=o.close_date.cast("timestamp") + ibis.interval(seconds=86_399),
        closed=closed, won=o.is_won.fill_null(False),
        amount=o.amount_corporate.fill_null(0.0).cast("float64"),  # one currency
        crm_source=o.source_channel,
    )
    if req.level == "account":
        o = o.filter(o.account_id.notnull())
        return o.mutate(entity=o.account_id, weight=as_float(1.0), jkey=o.opportunity_id)
    roles = store.table(tables.OPPORTUNITY_CONTACTS).select("opportunity_id", "contact_id")
    c = store.table(tables.CONTACTS)
    converted = c.filter(c.converted_opportunity_id.notnull()).select(
        opportunity_id=c.converted_opportunity_id, contact_id=c.contact_id)
    links = ibis.union(roles, converted, distinct=True)
    links = links.filter(links.contact_id.notnull() & links.opportunity_id.notnull())
    k = links.group_by(k_id=links.opportunity_id).agg(k=links.count())
    j = links.join(o, links.opportunity_id == o.opportunity_id).join(
        k, links.opportunity_id == k.k_id)
    return j.select(
        o.opportunity_id, o.account_id, o.created_at, o.close_end, o.closed, o.won, o.amount,
        o.crm_source, entity=links.contact_id, weight=as_float(1.0) / k.k.cast("float64"),
        jkey=links.contact_id.concat("|", o.opportunity_id),
    )


def _in_period(expr: Any, req: AttributionRequest) -> Any:
    cond = ibis.literal(True)
    if req.start:
        cond = cond & (expr >= ibis.literal(datetime.combine(req.start, datetime.min.time())))
    if req.end:
        cond = cond & (expr < ibis.literal(datetime.combine(req.end + timedelta(days=1),
                                                            datetime.min.time())))
    return cond


def _journey_table(store: Store, req: AttributionRequest, data_end: datetime) -> Any:
    """Every journey: key, entity, window, outcomes and milestone times."""
    lookback = days(req.lookback_days)
    f0 = as_float(0.0)
    rows: list[Any] = []
    # non-converting journeys end one conversion window before the data end: what happened
    # after that point is known, so a window ending there without a milestone did not convert
    cutoff = data_end - timedelta(seconds=round(req.conversion_window_days * DAY))
    at_cutoff = ibis.literal(cutoff)
    if req.metric == "conversions" and req.level == "contact":
        st = store.table(tables.STAGE_TRANSITIONS)
        st = st.filter(st.entity_type.isin(["lead", "contact"])
                       & (st.to_stage == req.conversion_stage) & st.occurred_at.notnull())
        first = st.group_by(entity=st.entity_id).agg(end_at=st.occurred_at.min())
        # a person who reached the stage (before the data end) never has a failed journey
        known = first.filter(first.end_at < ibis.literal(data_end))
        done = known.select(entity=known.entity, last_event=null_timestamp(),
                            blocked=ibis.literal(True))
        first = first.filter(_in_period(first.end_at, req))
        rows.append(first.select(
            jkey=ibis.literal("s|").concat(first.entity), entity=first.entity,
            end_at=first.end_at.cast("timestamp"), after=null_timestamp(), opp_w=f0, opp_amount=f0,
            won_w=f0, won_amount=f0, stage_w=as_float(1.0), tail=f0,
            crm_source=ibis.null().cast("string"), opp_at=null_timestamp(),
            won_at=null_timestamp()))
    else:
        o = _opportunity_rows(store, req)
        if req.metric == "revenue":
            m = o.filter(o.closed & _in_period(o.close_end, req))
            end_at = m.close_end
            won_at = ibis.ifelse(m.won, m.close_end, null_timestamp())
        else:
            m = o.filter(_in_period(o.created_at, req))
            end_at = m.created_at
            won_at = null_timestamp()
        won = ibis.ifelse(m.won, as_float(1.0), as_float(0.0))
        rows.append(m.select(
            jkey=ibis.literal("o|").concat(m.jkey), entity=m.entity,
            end_at=end_at.cast("timestamp"),
            after=null_timestamp(), opp_w=as_float(m.weight),
            opp_amount=as_float(m.weight * m.amount), won_w=as_float(m.weight * won),
            won_amount=as_float(m.weight * won * m.amount), stage_w=f0, tail=f0,
            crm_source=m.crm_source, opp_at=m.created_at.cast("timestamp"),
            won_at=won_at.cast("timestamp")))
        # an entity whose deal is open at the cutoff, or created after it, is converting, not
        # failing; a deal closed before the cutoff starts its non-converting window afresh
        known = o.filter(o.created_at < ibis.literal(data_end))
        closed_by = known.closed & (known.close_end <= at_cutoff)
        ev = known.mutate(latest=ibis.ifelse(closed_by, known.close_end, null_timestamp()),
                          block=ibis.ifelse(closed_by, 0, 1))
        done = ev.group_by(entity=ev.entity).agg(
            last_event=ev.latest.max(), blocked=ev.block.max() > 0)
    t = _touches(store, req)
    tj = t.left_join(done, t.entity == done.entity)
    tj = tj.filter((tj.blocked.isnull() | ~tj.blocked) & (tj.ts <= at_cutoff)
                   & (tj.ts > at_cutoff - lookback)
                   & (tj.last_event.isnull() | (tj.ts > tj.last_event)))
    tails = tj.group_by(entity=tj.entity).agg(after=tj.last_event.max())
    if req.start and cutoff < datetime.combine(req.start, datetime.min.time()):
        tails = tails.filter(ibis.literal(False))  # the period ends before any window can
    rows.append(tails.select(
        jkey=ibis.literal("t|").concat(tails.entity), entity=tails.entity,
        end_at=at_cutoff.cast("timestamp"), after=tails.after.cast("timestamp"), opp_w=f0,
        opp_amount=f0, won_w=f0, won_amount=f0, stage_w=f0,
        tail=as_float(1.0), crm_source=ibis.null().cast("string"), opp_at=null_timestamp(),
        won_at=null_timestamp()))
    j = ibis.union(*rows, distinct=False)
    j = j.mutate(lo=ibis.greatest(j.end_at - lookback,
                                  ibis.coalesce(j.after, j.end_at - lookback)))
    return _with_person_milestones(store, req, j)


def _with_person_milestones(store: Store, req: AttributionRequest, j: Any) -> Any:
    """Add lead creation (first person created in the window) and requested stage times."""
    c = store.table(tables.CONTACTS)
    key_col = "account_id" if req.level == "account" else "contact_id"
    people = c.filter(c[key_col].notnull() & c.created_at.notnull()).select(
        p_entity=c[key_col], p_at=c.created_at)
    js = j.select("jkey", "entity", "lo", "end_at")
    pj = js.join(people, js.entity == people.p_entity)
    pj = pj.filter((pj.p_at > pj.lo) & (pj.p_at <= pj.end_at))
    lead = pj.group_by(l_key=pj.jkey).agg(lead_at=pj.p_at.min())
    j = j.left_join(lead, j.jkey == lead.l_key).drop("l_key")
    for i, stage in enumerate(req.milestone_stages):
        st = store.table(tables.STAGE_TRANSITIONS)
        st = st.filter(st.entity_type.isin(["lead", "contact"]) & (st.to_stage == stage)
                       & st.occurred_at.notnull())
        if req.level == "account":
            acc = c.select(s_contact=c.contact_id, s_account=c.account_id)
            st = st.join(acc, st.entity_id == acc.s_contact).select(
                s_entity=acc.s_account, s_at=st.occurred_at)
        else:
            st = st.select(s_entity=st.entity_id, s_at=st.occurred_at)
        js = j.select("jkey", "entity", "lo", "end_at")
        sj = js.join(st, js.entity == st.s_entity)
        sj = sj.filter((sj.s_at > sj.lo) & (sj.s_at <= sj.end_at))
        first = sj.group_by(s_key=sj.jkey).agg(**{f"stage_{i}": sj.s_at.min()})
        j = j.left_join(first, j.jkey == first.s_key).drop("s_key")
    return j


def _epoch_us(arr: pa.ChunkedArray | pa.Array) -> FloatArray:
    """Microseconds since 1970 as float64 (exact for any date of this era; NaN for nulls)."""
    if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
        arr = pc.cast(arr, pa.timestamp(arr.type.unit))
    micros = pc.cast(pc.cast(arr, pa.timestamp("us")), pa.int64())
    as_float = pc.fill_null(pc.cast(micros, pa.float64()), float("nan"))
    out: FloatArray = np.asarray(as_float.to_numpy(zero_copy_only=False), dtype=np.float64)
    return out


def _data_end(store: Store, req: AttributionRequest) -> datetime:
    if req.end:
        return datetime.combine(req.end + timedelta(days=1), datetime.min.time())
    t = _touches(store, req)
    value = t.ts.max().execute()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        raise AttributionError("the store has no touchpoints for this level; import "
                               "touchpoints and run `revloop build`", code="no_touches")
    return value.to_pydatetime() if hasattr(value, "to_pydatetime") else value  # type: ignore[no-any-return]


def build_journeys(store: Store, req: AttributionRequest) -> StoreJourneys:
    """The journeys of ``req`` from the store's marts (see the module docstring)."""
    missing = {"touchpoints", "opportunities", "contacts"} - set(store.list_tables())
    if missing:
        raise AttributionError(
            f"the store has no {', '.join(sorted(missing))} mart yet; run `revloop build`",
            code="not_built")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data_end = _data_end(store, req)
    jt = _journey_table(store, req, data_end)
    jt = jt.mutate(jid=ibis.row_number().over(order_by=jt.jkey))
    stage_cols = [f"stage_{i}" for i in range(len(req.milestone_stages))]
    meta = jt.select("jid", "end_at", "lo", "opp_w", "opp_amount", "won_w", "won_amount",
                     "stage_w", "tail", "crm_source", "opp_at", "won_at", "lead_at",
                     *stage_cols).to_pyarrow()
    meta = meta.sort_by("jid")
    timings["journey_table"] = time.perf_counter() - t0
    n = meta.num_rows
    t1 = time.perf_counter()
    touches = _touch_rows(store, req, jt)
    timings["touch_query"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    journeys = _assemble(meta, touches, req, n, stage_cols)
    timings["assemble"] = time.perf_counter() - t2
    col = {name: np.asarray(meta.column(name).to_numpy(zero_copy_only=False), np.float64)
           for name in ("opp_w", "opp_amount", "won_w", "won_amount", "stage_w", "tail")}
    views = {
        "pipeline": (col["opp_w"], col["tail"], col["opp_amount"]),
        "revenue": (col["won_w"], col["opp_w"] - col["won_w"] + col["tail"], col["won_amount"]),
        "stage": (col["stage_w"], col["tail"], np.zeros(n)),
    }
    primary = {"pipeline": "pipeline", "revenue": "revenue",
               "conversions": "stage" if req.level == "contact" else "pipeline"}[req.metric]
    conv, nulls, value = views[primary]
    journeys = journeys.with_outcomes(conv, nulls, value)
    counts = {
        "journeys": float(n),
        "milestone_journeys": float(n - col["tail"].sum()),
        "non_converting_journeys": float(col["tail"].sum()),
        "milestones_without_touches": float(((journeys.lengths == 0)
                                             & (col["tail"] == 0)).sum()),
    }
    return StoreJourneys(
        journeys=journeys, views=views,
        crm_source=meta.column("crm_source").to_pylist(),
        is_tail=col["tail"].astype(np.int64), data_end=data_end, counts=counts,
        group_names=_group_names(store, req, journeys.channels), timings=timings,
    )


def _touch_rows(store: Store, req: AttributionRequest, jt: Any) -> pa.Table:
    """The touches of every journey: (jid, ts, grp, direct), or per-journey arrays (sql)."""
    t = _touches(store, req)
    w = jt.select("jid", j_entity=jt.entity, j_lo=jt.lo, j_end=jt.end_at)
    x = t.join(w, t.entity == w.j_entity)
    x = x.filter((x.ts > x.j_lo) & (x.ts <= x.j_end))
    if req.method == "arrow":
        return x.select("jid", "ts", "grp", "direct").to_pyarrow()
    return collect_sorted(store, x, "jid", ["ts", "grp", "direct"]).to_pyarrow()


def _flat_touches(touches: pa.Table, method: str) -> tuple[IntArray, pa.Array, pa.Array,
                                                           pa.Array]:
    """(jid per touch, ts, grp, direct) as flat columns, whatever the method."""
    if method == "arrow":
        return (np.asarray(touches.column("jid").to_numpy(), np.int64),
                touches.column("ts").combine_chunks(), touches.column("grp").combine_chunks(),
                touches.column("direct").combine_chunks())
    jid = np.asarray(touches.column("jid").to_numpy(), np.int64)
    if "s" in touches.column_names:
        lists = touches.column("s").combine_chunks()
        structs = lists.flatten()
        ts, grp, direct = (structs.field("ts"), structs.field("grp"), structs.field("direct"))
    else:
        lists = touches.column("ts").combine_chunks()
        ts = lists.flatten()
        grp = touches.column("grp").combine_chunks().flatten()
        direct = touches.column("direct").combine_chunks().flatten()
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), np.int64)
    per = np.repeat(jid, np.diff(offsets))
    return per, ts, grp, direct


def _assemble(meta: pa.Table, touches: pa.Table, req: AttributionRequest, n: int,
              stage_cols: list[str]) -> Journeys:
    # Ibis' row_number is 0-based on every engine
    jid, ts_arr, grp_arr, direct_arr = _flat_touches(touches, req.method)
    ts = _epoch_us(ts_arr)
    encoded = pc.dictionary_encode(grp_arr)
    names = encoded.dictionary.to_pylist()
    order = np.argsort(np.asarray(names, dtype=object), kind="stable")
    remap = np.empty(len(order), dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    codes = remap[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), np.int64)]
    direct = np.asarray(direct_arr.to_numpy(zero_copy_only=False), dtype=np.bool_)
    # one deterministic order on every engine (SQL collations differ): journey, time, group
    sort = np.lexsort((direct, codes, ts, jid))
    jid, ts, codes, direct = jid[sort], ts[sort], codes[sort], direct[sort]
    lengths = np.bincount(jid, minlength=n).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    end_us = _epoch_us(meta.column("end_at"))
    ages = (end_us[jid] - ts) / (DAY * 1e6)
    milestone_names = [LEAD_CREATION, OPPORTUNITY_CREATION, CLOSED_WON, *req.milestone_stages]
    time_cols = ["lead_at", "opp_at", "won_at", *stage_cols]
    flags = np.zeros(len(ts), dtype=np.uint32)
    for bit, col in enumerate(time_cols):
        flags |= _milestone_flags(jid, ts, offsets, _epoch_us(meta.column(col)), end_us, bit)
    return Journeys(
        channels=tuple(names[i] for i in order), offsets=offsets, touches=codes.astype(np.int32),
        conversions=np.zeros(n), nulls=np.zeros(n), value=np.zeros(n),
        ages=ages.astype(np.float64), flags=flags, milestones=tuple(milestone_names),
        direct=direct,
    )


def _milestone_flags(jid: IntArray, ts: FloatArray, offsets: IntArray, at: FloatArray,
                     end: FloatArray, bit: int) -> FlagArray:
    """Flag the last touch at or before each journey's milestone time (none when the
    milestone is unknown, after the journey's end or before its first touch)."""
    flags = np.zeros(len(ts), dtype=np.uint32)
    n = len(offsets) - 1
    valid = ~np.isnan(at) & (at <= end)
    if not valid.any() or len(ts) == 0:
        return flags
    # touches are sorted by time within each journey: the ones at or before the milestone
    # are a prefix, so the milestone's touch is the prefix's last one
    before = valid[jid] & (ts <= np.where(valid, at, -np.inf)[jid])
    count = np.bincount(jid, before, minlength=n).astype(np.int64)
    rows = np.flatnonzero(count > 0)
    flags[offsets[rows] + count[rows] - 1] = np.uint32(1 << bit)
    return flags


def _group_names(store: Store, req: AttributionRequest, groups: tuple[str, ...]) -> dict[str, str]:
    """Readable names of campaign and content groups (ids stay the keys)."""
    by = GROUP_COLUMNS.get(req.by.strip())
    if by == "campaign_id" and tables.CAMPAIGNS in store.list_tables():
        t = store.table(tables.CAMPAIGNS)
        rows = t.select(k=t.campaign_id, name=t.name).to_pyarrow().to_pylist()
    elif by == "content_id" and tables.CONTENT in store.list_tables():
        t = store.table(tables.CONTENT)
        rows = t.select(k=t.content_id, name=t.title).to_pyarrow().to_pylist()
    else:
        return {}
    wanted = set(groups)
    return {r["k"]: r["name"] for r in rows if r["k"] in wanted and r["name"]}
