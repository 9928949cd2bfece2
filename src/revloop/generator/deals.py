"""Deals: the opportunities of the block (new business and expansions from buying windows,
renewals and upsells of customers), their stage history, buying-group roles, and the reps'
meetings and calls while they are open."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revloop.generator import catalog as cat
from revloop.generator.config import DAY, GeneratorConfig
from revloop.generator.draws import (
    BoolArray,
    FloatArray,
    IntArray,
    choice,
    lognormal_mean_one,
    office_times,
    repeat_index,
    weights,
)
from revloop.generator.market import Accounts, People
from revloop.generator.outcomes import EXPANSION, NEW, RENEWAL, Outcomes
from revloop.generator.touches import SALES, TYPE_INDEX, Touches
from revloop.generator.windows import Windows

STAGE_FRACTIONS = np.array([0.0, 0.15, 0.45, 0.75])  # of the cycle, for the four open stages
LOST_AT = (0.35, 0.30, 0.25, 0.10)  # furthest open stage a lost deal reached
YEAR = 365 * DAY


@dataclass
class Deals:
    """Every opportunity of the block, sorted by (account, created)."""

    account: IntArray
    kind: IntArray
    window: IntArray  # -1 for renewals and customers' upsells
    created: IntArray
    close: IntArray  # when it closes (may be after the history: still open then)
    won: BoolArray  # eventual outcome
    amount: FloatArray
    first_amount: FloatArray  # the estimate before the proposal
    planned_close: IntArray  # the close date first expected
    product: IntArray
    lost_reason: IntArray
    reached: IntArray  # furthest open stage (0–3)
    seq: IntArray  # number of the deal within its account

    @property
    def n(self) -> int:
        return len(self.account)


@dataclass
class Customers:
    """When accounts of the block became customers and churned (-1: never)."""

    since: IntArray  # indexed by account - first; max int when never a customer
    churned: IntArray


def build_deals(cfg: GeneratorConfig, rng: np.random.Generator, accounts: Accounts,
                windows: Windows, outcomes: Outcomes, first: int,
                last: int) -> tuple[Deals, Customers]:
    """Window deals plus the customer lifecycle: renewal at every contract anniversary
    (created 90 days before; a lost renewal is a churn) and upsells while a customer."""
    p = cfg.params
    never = np.iinfo(np.int64).max
    n_acc = last - first
    since = np.full(n_acc, never, dtype=np.int64)
    arr = np.zeros(n_acc)
    existing = np.flatnonzero(accounts.is_customer[first:last])
    since[existing] = accounts.contract_start[first + existing]
    arr[existing] = accounts.acv[first + existing]
    wd = np.flatnonzero(outcomes.exists)
    new_won = wd[(outcomes.kind[wd] == NEW) & outcomes.won[wd] & (outcomes.close_t[wd] < cfg.t1)]
    order = np.argsort(outcomes.close_t[new_won], kind="stable")[::-1]
    for r in new_won[order]:  # the earliest win of an account sets its contract
        a = int(windows.account[r]) - first
        if outcomes.close_t[r] < since[a]:
            since[a] = int(outcomes.close_t[r])
            arr[a] = float(outcomes.amount[r])
    churned = np.full(n_acc, -1, dtype=np.int64)
    # Renewals: one per anniversary that falls within reach of the history.
    ren_acc: list[IntArray] = []
    ren_created: list[IntArray] = []
    ren_close: list[IntArray] = []
    ren_won: list[BoolArray] = []
    ren_amount: list[FloatArray] = []
    alive = since < never
    fit_adj = np.array([0.05, 0.0, -0.12])[accounts.fit[first:last]]
    for j in range(1, 2 + cfg.days // 365 + 1):
        anniversary = np.where(alive, since + j * YEAR, never)
        created = anniversary - 90 * DAY
        due = alive & (created < cfg.t1)
        idx = np.flatnonzero(due)
        won = rng.random(len(idx)) < np.clip(p.renewal_win_rate + fit_adj[idx], 0.05, 0.99)
        close = anniversary[idx] + (rng.normal(0, 5, len(idx)) * DAY).astype(np.int64)
        ren_acc.append(idx + first)
        ren_created.append(created[idx])
        ren_close.append(close)
        ren_won.append(won)
        ren_amount.append(np.round(arr[idx] * (1 + rng.uniform(0.0, 0.08, len(idx))), -2))
        lost = idx[~won]
        churned[lost] = anniversary[lost]
        alive[lost] = False
        arr[idx[won]] *= 1.04
    # Upsells while a customer.
    start = np.maximum(since, cfg.t0)
    stop = np.where(churned >= 0, churned, cfg.t1)
    years = np.where(since < never, np.maximum(stop - start, 0) / YEAR, 0.0)
    count = rng.poisson(p.expansions_per_customer_year * years)
    up_local = repeat_index(count)
    up_created = start[up_local] + (rng.random(len(up_local))
                                    * (stop - start)[up_local]).astype(np.int64)
    up_cycle = np.clip(40.0 * np.exp(rng.normal(0, 0.5, len(up_local))), 7, 300)
    up_won = rng.random(len(up_local)) < p.expansion_win_rate
    up_amount = np.maximum(np.round(0.3 * arr[up_local] * lognormal_mean_one(
        rng, 0.4, len(up_local)), -2), 500.0)
    # All deals together.
    account = np.concatenate([windows.account[wd], *ren_acc, up_local + first])
    kind = np.concatenate([outcomes.kind[wd], np.full(sum(len(a) for a in ren_acc), RENEWAL),
                           np.full(len(up_local), EXPANSION)])
    window = np.concatenate([wd, np.full(len(account) - len(wd), -1)])
    created = np.concatenate([outcomes.t_opp[wd], *ren_created, up_created])
    close = np.concatenate([outcomes.close_t[wd], *ren_close,
                            up_created + (up_cycle * DAY).astype(np.int64)])
    won = np.concatenate([outcomes.won[wd], *ren_won, up_won])
    amount = np.concatenate([outcomes.amount[wd], *ren_amount, up_amount])
    n = len(account)
    product = np.concatenate([outcomes.product[wd], choice(
        rng, weights([r[1] for r in cat.PRODUCTS]), n - len(wd))])
    lost_reason = np.concatenate([outcomes.lost_reason[wd], choice(
        rng, weights([r[1] for r in cat.LOST_REASONS]), n - len(wd))])
    reached = np.where(won, 3, choice(rng, weights(LOST_AT), n))
    first_amount = np.maximum(np.round(amount * lognormal_mean_one(rng, 0.2, n), -2), 500.0)
    pushed = rng.random(n) < 0.35
    planned = np.where(pushed, created + ((close - created) * rng.uniform(0.6, 0.9, n))
                       .astype(np.int64), close)
    o = np.lexsort((created, account))
    acc_sorted = account[o]
    starts = np.r_[True, acc_sorted[1:] != acc_sorted[:-1]] if n else np.zeros(0, bool)
    seq = np.arange(n) - np.maximum.accumulate(np.where(starts, np.arange(n), 0)) if n \
        else np.zeros(0, np.int64)
    deals = Deals(account=account[o], kind=kind[o], window=window[o], created=created[o],
                  close=close[o], won=won[o], amount=amount[o], first_amount=first_amount[o],
                  planned_close=planned[o], product=product[o], lost_reason=lost_reason[o],
                  reached=reached[o], seq=seq)
    return deals, Customers(since=since, churned=churned)


@dataclass
class Roles:
    """Buying-group members on each deal (``rank`` 0 is the primary contact)."""

    deal: IntArray
    person: IntArray
    rank: IntArray
    recorded: BoolArray  # the rep filled the contact role in (often they do not)


def choose_roles(cfg: GeneratorConfig, rng: np.random.Generator, people: People, deals: Deals,
                 window_person: IntArray, window_person_touches: IntArray,
                 t_id: IntArray) -> tuple[Roles, IntArray]:
    """The people on each deal, most engaged first; a deal with nobody known yet gets its
    most likely member created by the rep at the deal's creation (``t_id`` updated)."""
    t_id = t_id.copy()
    members = np.flatnonzero(~people.noise & ~people.hidden)
    m_acc = people.account[members]
    lo = np.searchsorted(m_acc, deals.account, side="left")
    hi = np.searchsorted(m_acc, deals.account, side="right")
    size = hi - lo
    d = repeat_index(size)
    person = members[lo[d] + np.arange(len(d)) - np.repeat(np.r_[0, np.cumsum(size)[:-1]], size)]
    # engagement in the deal's window, then seniority, then chance
    touches = np.zeros(len(d))
    if len(window_person):
        key = deals.window[d] * (people.n + 1) + person
        pos = np.searchsorted(window_person, key)
        hit = (pos < len(window_person)) & (
            window_person[np.minimum(pos, len(window_person) - 1)] == key) & (deals.window[d] >= 0)
        touches[hit] = window_person_touches[pos[hit]]
    weight = np.array([s[3] for s in cat.SENIORITIES])[people.seniority[person]]
    score = touches + weight + rng.random(len(d))
    known = t_id[person] <= deals.created[d]
    order = np.lexsort((-score, ~known, d))
    d, person, known = d[order], person[order], known[order]
    starts = np.r_[True, d[1:] != d[:-1]] if len(d) else np.zeros(0, bool)
    rank = np.arange(len(d)) - np.maximum.accumulate(np.where(starts, np.arange(len(d)), 0)) \
        if len(d) else np.zeros(0, np.int64)
    # nobody known: the top member becomes known when the rep creates the deal
    created_by_rep = (rank == 0) & ~known
    for row in np.flatnonzero(created_by_rep):
        pp = person[row]
        t_id[pp] = min(t_id[pp], int(deals.created[d[row]]))
    n_roles = 1 + rng.binomial(3, 0.5, deals.n)
    keep = (rank < n_roles[d]) & ((rank == 0) | known)
    missing = rng.random(deals.n) < np.where(deals.kind == NEW, 0.25, 0.5)
    return Roles(deal=d[keep], person=person[keep], rank=rank[keep],
                 recorded=~missing[d[keep]]), t_id


def stage_history(cfg: GeneratorConfig, deals: Deals) -> tuple[IntArray, IntArray, IntArray,
                                                                FloatArray, IntArray]:
    """Transitions of every deal up to the end of the history: (deal, stage index, time,
    amount, expected close). Stage indices 0–3 are the open stages, 4 won, 5 lost."""
    parts_d: list[IntArray] = []
    parts_s: list[IntArray] = []
    parts_t: list[IntArray] = []
    cycle = (deals.close - deals.created).astype(np.float64)
    renewal = deals.kind == RENEWAL
    for stage in range(4):
        reach = deals.reached >= stage
        if stage == 1:
            reach &= ~renewal  # renewals go from qualification straight to proposal
        at = deals.created + (cycle * STAGE_FRACTIONS[stage]).astype(np.int64)
        parts_d.append(np.flatnonzero(reach))
        parts_s.append(np.full(int(reach.sum()), stage))
        parts_t.append(at[reach])
    parts_d.append(np.arange(deals.n))
    parts_s.append(np.where(deals.won, 4, 5))
    parts_t.append(deals.close)
    d = np.concatenate(parts_d)
    s = np.concatenate(parts_s)
    t = np.concatenate(parts_t)
    keep = t < cfg.t1
    d, s, t = d[keep], s[keep], t[keep]
    order = np.lexsort((s, t, d))
    d, s, t = d[order], s[order], t[order]
    amount = np.where(s >= 2, deals.amount[d], deals.first_amount[d])
    expected_close = np.where(s >= 3, deals.close[d], deals.planned_close[d])
    return d, s, t, amount, expected_close


def sales_touches(cfg: GeneratorConfig, rng: np.random.Generator, deals: Deals,
                  roles: Roles) -> Touches:
    """The rep's meetings and calls with the deal's people while it is open."""
    end = np.minimum(deals.close, cfg.t1)
    days = np.maximum(end - deals.created, 0) / DAY
    count = rng.poisson(1.3 * days / 7.0)
    d = repeat_index(count)
    t = office_times(rng, deals.created[d], np.maximum(end[d], deals.created[d] + 1),
                     cfg.params.weekend_weight)
    # a role of the deal, chosen uniformly
    lo = np.searchsorted(roles.deal, d, side="left")
    hi = np.searchsorted(roles.deal, d, side="right")
    has = hi > lo
    pick = lo + (rng.random(len(d)) * np.maximum(hi - lo, 1)).astype(np.int64)
    person = roles.person[np.minimum(pick, max(len(roles.person) - 1, 0))] if len(
        roles.person) else np.zeros(len(d), np.int64)
    ttype = np.where(rng.random(len(d)) < 0.4, TYPE_INDEX["meeting"], TYPE_INDEX["call"])
    sel = has
    return Touches.new(person[sel], t[sel], np.full(int(sel.sum()), SALES), ttype[sel])


def reactive_touches(cfg: GeneratorConfig, rng: np.random.Generator, deals: Deals,
                     roles: Roles, outcomes: Outcomes, t_id: IntArray) -> Touches:
    """What the decision causes before the deal opens: a visit to the pricing page (typed
    URL or branded search) and often a demo request. They cause nothing."""
    from revloop.generator.config import CHANNEL_INDEX

    primary = roles.rank == 0
    d = roles.deal[primary]
    person = roles.person[primary]
    is_window = deals.window[d] >= 0
    d, person = d[is_window], person[is_window]
    decided = outcomes.t_decided[deals.window[d]]
    room = np.maximum(deals.created[d] - decided, 1)
    visit = rng.random(len(d)) < 0.65
    visit_t = decided + (rng.random(len(d)) * np.minimum(room, 2 * DAY)).astype(np.int64)
    visit_ch = np.where(rng.random(len(d)) < 0.7, CHANNEL_INDEX["direct"],
                        CHANNEL_INDEX["organic_search"])
    demo_t = decided + (rng.random(len(d)) * np.minimum(room, DAY)).astype(np.int64)
    demo = (rng.random(len(d)) < 0.45) & (t_id[person] <= demo_t)
    parts = [
        Touches.new(person[visit], np.maximum(visit_t[visit], cfg.t0), visit_ch[visit],
                    np.full(int(visit.sum()), TYPE_INDEX["visit"]), reactive=True),
        Touches.new(person[demo], np.maximum(demo_t[demo], cfg.t0),
                    np.full(int(demo.sum()), CHANNEL_INDEX["direct"]),
                    np.full(int(demo.sum()), TYPE_INDEX["form_fill"]), reactive=True),
    ]
    out = Touches.concat(parts)
    page = np.where(out.ttype == TYPE_INDEX["form_fill"], 3, 2)  # /demo, /pricing
    out.page = page
    return out
