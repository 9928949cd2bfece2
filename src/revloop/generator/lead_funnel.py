"""The lead funnel as the simulated revenue team runs it: inquiry when a person becomes known,
MQL by an arbitrary points rule, SDR assignment and first follow-up (with SLA breaches),
acceptance (SAL), SQL when the account's deal opens, recycling, disqualification, stalls,
one re-entry after a recycle, and customers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revloop.generator import catalog as cat
from revloop.generator.config import DAY, MQL_POINTS, GeneratorConfig
from revloop.generator.deals import Customers, Deals, Roles
from revloop.generator.draws import (
    BoolArray,
    IntArray,
    choice,
    first_in_group,
    weights,
)
from revloop.generator.market import People
from revloop.generator.outcomes import NEW, RENEWAL
from revloop.generator.touches import SALES, TOUCH_TYPES, TYPE_INDEX, Touches
from revloop.generator.windows import Windows

LEAD_STAGES: tuple[str, ...] = ("inquiry", "mql", "sal", "sql", "opportunity", "customer",
                                "recycled", "disqualified")
ST = {s: i for i, s in enumerate(LEAD_STAGES)}
REASONS: tuple[str, ...] = (
    "", "deal_lost", *(r[0] for r in cat.RECYCLE_REASONS), *(r[0] for r in cat.DISQUALIFY_REASONS),
    *(r[0] for r in cat.NOISE_DISQUALIFY_REASONS),
)
POINTS = np.array([MQL_POINTS[t] for t in TOUCH_TYPES])
NEVER = np.iinfo(np.int64).max
HOUR = 3600


@dataclass
class LeadFunnel:
    """Stage transitions of people and what the SDR team did with each MQL."""

    person: IntArray
    stage: IntArray
    t: IntArray
    reason: IntArray  # index into REASONS (0: none)
    sdr: IntArray  # per person: SDR user index (-1: never assigned)
    assigned_at: IntArray  # per person: first assignment (-1)
    follow_up_at: IntArray  # per person: first follow-up (-1)
    reached_sql: BoolArray  # per person
    follow_ups: Touches  # the SDRs' first calls


class _Log:
    def __init__(self) -> None:
        self.person: list[IntArray] = []
        self.stage: list[IntArray] = []
        self.t: list[IntArray] = []
        self.reason: list[IntArray] = []

    def add(self, person: IntArray, stage: int | IntArray, t: IntArray,
            reason: int | IntArray = 0) -> None:
        n = len(person)
        self.person.append(person)
        self.stage.append(np.broadcast_to(np.asarray(stage), (n,)).astype(np.int64))
        self.t.append(t)
        self.reason.append(np.broadcast_to(np.asarray(reason), (n,)).astype(np.int64))


def _reason_codes(rng: np.random.Generator, table: tuple[tuple[str, float], ...],
                  n: int) -> IntArray:
    names = [r[0] for r in table]
    offset = REASONS.index(names[0])
    return offset + choice(rng, weights([r[1] for r in table]), n)


def _business_delay(rng: np.random.Generator, n: int, breach_share: float,
                    sla_hours: float) -> IntArray:
    """First follow-up delays: mostly within hours, a share beyond the SLA."""
    within = np.exp(rng.normal(np.log(3.0), 0.8, n)) * HOUR
    late = (sla_hours + rng.exponential(30.0, n)) * HOUR
    return np.where(rng.random(n) < breach_share, late, np.minimum(within, sla_hours * HOUR
                                                                   * 0.95)).astype(np.int64)


def run_lead_funnel(cfg: GeneratorConfig, rng: np.random.Generator, people: People,
                    touches: Touches, t_id: IntArray, windows: Windows, deals: Deals,
                    roles: Roles, customers: Customers, first_account: int,
                    account_region: IntArray, sdrs_of: list[IntArray]) -> LeadFunnel:
    """Every person's stage history (``touches`` sorted by person then time)."""
    p = cfg.params
    n = people.n
    log = _Log()
    known = (t_id < cfg.t1) & ~people.hidden
    # inquiry: when a new person became known. The CRM base predates the history, and a CRM
    # keeps no lifecycle history that old: their first recorded stage is their next one.
    who = np.flatnonzero(known & (t_id >= cfg.t0))
    log.add(who, ST["inquiry"], t_id[who])
    # Points per touch (reps' meetings and calls do not count), rolling 90-day sums.
    rows = np.flatnonzero(touches.channel != SALES)
    person = touches.person[rows]
    t = touches.t[rows]
    pts = POINTS[touches.ttype[rows]]
    cum = np.cumsum(pts)
    base_t = cfg.t0 - 400 * DAY
    key = person * (1 << 34) + (t - base_t)
    acc = people.account[person]
    acc_local = np.where(acc >= 0, acc - first_account, 0)
    cust_since = np.where(acc >= 0, customers.since[acc_local], NEVER)
    eligible = (t >= t_id[person]) & (t < cust_since) & ~people.hidden[person]
    # deals that a person's MQL can lead to: new business and expansions, by account
    open_deals = np.flatnonzero(deals.kind != RENEWAL)
    d_key = deals.account[open_deals] * (1 << 34) + (deals.created[open_deals] - base_t)
    primary = roles.rank == 0
    primary_of = np.full(deals.n, -1, dtype=np.int64)
    primary_of[roles.deal[primary]] = roles.person[primary]
    sdr = np.full(n, -1, dtype=np.int64)
    assigned_at = np.full(n, -1, dtype=np.int64)
    follow_up_at = np.full(n, -1, dtype=np.int64)
    reached_sql = np.zeros(n, dtype=bool)
    sql_deal = np.full(n, -1, dtype=np.int64)
    follow_parts: list[tuple[IntArray, IntArray]] = []
    after = np.full(n, cfg.t0 - 1, dtype=np.int64)  # a new MQL cycle counts points from here
    region = _region_of(people, account_region, len(sdrs_of))
    for _cycle in range(2):
        since = np.maximum(t - p.mql_window_days * DAY, after[person])
        j = np.searchsorted(key, person * (1 << 34) + (since - base_t), side="left")
        window_sum = cum - np.where(j > 0, cum[np.maximum(j - 1, 0)], 0.0)
        crossing = eligible & (t > after[person]) & (window_sum >= p.mql_threshold)
        first = first_in_group(person, crossing, n)
        mql_people = np.flatnonzero(first >= 0)
        if len(mql_people) == 0:
            break
        t_mql = t[first[mql_people]]
        log.add(mql_people, ST["mql"], t_mql)
        # SDR assignment and the first follow-up
        t_assign = t_mql + rng.integers(60, 1800, len(mql_people))
        t_follow = t_assign + _business_delay(rng, len(mql_people), p.follow_up_breach_share,
                                              p.follow_up_sla_hours)
        who_sdr = _pick_sdr(rng, region[mql_people], sdrs_of)
        new_assign = assigned_at[mql_people] < 0
        sdr[mql_people] = np.where(new_assign, who_sdr, sdr[mql_people])
        assigned_at[mql_people] = np.where(new_assign, t_assign, assigned_at[mql_people])
        follow_up_at[mql_people] = np.where(new_assign, t_follow, follow_up_at[mql_people])
        follow_parts.append((mql_people, t_follow))
        # Does the account open a deal around this MQL?
        acc_m = people.account[mql_people]
        lookup = acc_m * (1 << 34) + (t_mql - 30 * DAY - base_t)
        pos = np.searchsorted(d_key, lookup, side="left")
        pos_c = np.minimum(pos, max(len(d_key) - 1, 0))
        linked = (acc_m >= 0) & (pos < len(d_key))
        if len(d_key):
            cand = open_deals[pos_c]
            linked &= (deals.account[cand] == acc_m) & (
                deals.created[cand] <= t_mql + 120 * DAY)
        else:
            cand = np.zeros(len(mql_people), np.int64)
        in_window = _in_window(windows, acc_m, t_mql)
        accept_p = np.where(in_window, p.sal_accept_in_market, p.sal_accept_out_of_market)
        accepted = linked | (rng.random(len(mql_people)) < accept_p)
        t_sal = t_follow + (rng.random(len(mql_people)) * DAY).astype(np.int64)
        log.add(mql_people[accepted], ST["sal"], t_sal[accepted])
        # accepted and linked: SQL as the deal opens, opportunity at its creation
        lk = np.flatnonzero(linked & accepted)
        lk_people = mql_people[lk]
        created = deals.created[cand[lk]]
        t_sql = np.maximum(t_sal[lk], created - (rng.random(len(lk)) * 3 * DAY).astype(np.int64))
        same = rng.random(len(lk)) < 0.2
        t_sql = np.where(same, np.maximum(created, t_sal[lk]), t_sql)
        log.add(lk_people, ST["sql"], t_sql)
        log.add(lk_people, ST["opportunity"], np.maximum(created, t_sql))
        reached_sql[lk_people] = True
        sql_deal[lk_people] = cand[lk]
        # accepted, not linked: stalled, or recycled after a while
        nl = np.flatnonzero(accepted & ~linked)
        stalled = rng.random(len(nl)) < p.stalled_share
        rec = nl[~stalled]
        t_rec = t_sal[rec] + (rng.uniform(21, 75, len(rec)) * DAY).astype(np.int64)
        log.add(mql_people[rec], ST["recycled"], t_rec,
                _reason_codes(rng, cat.RECYCLE_REASONS, len(rec)))
        after[mql_people[rec]] = t_rec
        # not accepted: disqualified (noise almost always) or back to nurture
        na = np.flatnonzero(~accepted)
        noise = people.noise[mql_people[na]]
        dq = rng.random(len(na)) < np.where(noise, 0.9, 0.5)
        dq_rows = na[dq]
        reasons = np.where(noise[dq], _reason_codes(rng, cat.NOISE_DISQUALIFY_REASONS,
                                                    len(dq_rows)),
                           _reason_codes(rng, cat.DISQUALIFY_REASONS, len(dq_rows)))
        log.add(mql_people[dq_rows], ST["disqualified"], t_follow[dq_rows], reasons)
        rc_rows = na[~dq]
        log.add(mql_people[rc_rows], ST["recycled"], t_follow[rc_rows],
                _reason_codes(rng, cat.RECYCLE_REASONS, len(rc_rows)))
        after[mql_people[rc_rows]] = t_follow[rc_rows]
        # only recycled people may start a second cycle
        nxt = np.zeros(n, dtype=bool)
        nxt[mql_people[rec]] = True
        nxt[mql_people[rc_rows]] = True
        after = np.where(nxt, after, NEVER - 1)
    # Primary contacts of deals that no MQL led to: sales accepted them directly.
    has_primary = (primary_of >= 0) & (deals.kind != RENEWAL)
    dd = np.flatnonzero(has_primary)
    pp = primary_of[dd]
    fresh = ~reached_sql[pp]
    dd, pp = dd[fresh], pp[fresh]
    pp_unique, first_idx = np.unique(pp, return_index=True)
    dd = dd[first_idx]
    created = deals.created[dd]
    t_sql = np.maximum(created - (rng.random(len(dd)) * 2 * DAY).astype(np.int64), t_id[pp_unique])
    log.add(pp_unique, ST["sql"], t_sql)
    log.add(pp_unique, ST["opportunity"], np.maximum(created, t_sql))
    reached_sql[pp_unique] = True
    sql_deal[pp_unique] = dd
    # Customers: the people of won new deals (those on it and those it came from), when the
    # deal closes; a lost new deal sends the people it came from back to nurture.
    closed_new = (deals.kind == NEW) & (deals.close < cfg.t1)
    won_new = closed_new & deals.won
    on_deal = np.flatnonzero(sql_deal >= 0)
    their_deal = sql_deal[on_deal]
    on_won = won_new[roles.deal]
    cust_people = np.r_[roles.person[on_won], on_deal[won_new[their_deal]]]
    cust_t = np.r_[deals.close[roles.deal[on_won]], deals.close[their_deal[won_new[their_deal]]]]
    cp, first_c = np.unique(cust_people, return_index=True)
    log.add(cp, ST["customer"], cust_t[first_c])
    lost = closed_new[their_deal] & ~deals.won[their_deal]
    log.add(on_deal[lost], ST["recycled"], deals.close[their_deal[lost]],
            REASONS.index("deal_lost"))
    follow_ups = _follow_up_touches(rng, follow_parts)
    tr_person = np.concatenate(log.person)
    tr_stage = np.concatenate(log.stage)
    tr_t = np.concatenate(log.t)
    tr_reason = np.concatenate(log.reason)
    keep = tr_t < cfg.t1
    order = np.lexsort((tr_stage[keep], tr_t[keep], tr_person[keep]))
    return LeadFunnel(
        person=tr_person[keep][order], stage=tr_stage[keep][order], t=tr_t[keep][order],
        reason=tr_reason[keep][order], sdr=sdr, assigned_at=assigned_at,
        follow_up_at=follow_up_at, reached_sql=reached_sql, follow_ups=follow_ups,
    )


def _region_of(people: People, account_region: IntArray, n_regions: int) -> IntArray:
    """The SDR region of each person (noise leads are spread over all regions)."""
    return np.where(people.account >= 0, account_region[np.maximum(people.account, 0)],
                    people.member % n_regions)


def _pick_sdr(rng: np.random.Generator, region: IntArray, sdrs_of: list[IntArray]) -> IntArray:
    out = np.zeros(len(region), dtype=np.int64)
    for r, team in enumerate(sdrs_of):
        rows = np.flatnonzero(region == r)
        out[rows] = team[rng.integers(0, len(team), len(rows))]
    return out


def _in_window(windows: Windows, account: IntArray, t: IntArray) -> BoolArray:
    """Is the account in one of its buying windows at ``t``?"""
    if windows.n == 0:
        return np.zeros(len(t), dtype=bool)
    base_t = int(windows.start.min()) - 1
    w_key = windows.account * (1 << 34) + (windows.start - base_t)
    key = account * (1 << 34) + np.maximum(t - base_t, 0)
    pos = np.searchsorted(w_key, key, side="right") - 1
    pc_ = np.maximum(pos, 0)
    return (pos >= 0) & (windows.account[pc_] == account) & (t < windows.end[pc_]) & (
        account >= 0)


def _follow_up_touches(rng: np.random.Generator,
                       parts: list[tuple[IntArray, IntArray]]) -> Touches:
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Touches.new(empty, empty, empty, empty)
    person = np.concatenate([p for p, _ in parts])
    t = np.concatenate([tt for _, tt in parts])
    ttype = np.where(rng.random(len(t)) < 0.7, TYPE_INDEX["call"], TYPE_INDEX["email_open"])
    return Touches.new(person, t, np.full(len(t), SALES), ttype)
