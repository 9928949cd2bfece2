"""The causal core: which buying windows become opportunities, which are won, and — by exact
bookkeeping with common random numbers — what each channel, campaign and piece of content
caused.

Model (see docs/generator.md). The buying group of a window ``w`` decides at a time τ_w of its
own (late in the window, not triggered by any touch). By then it has accumulated the hazard

    H_w = λ_w · (τ_w − start_w) / (end_w − start_w)  +  Σ_{touches i of w, t_i < τ_w} h_i,
    h_i = hazard[channel_i] · quality[campaign_i] · quality[content_i],

over the marketing touches of the account's people inside the window. The window draws
E_w ~ Exp(1) once and opens an opportunity (after the time it takes to book the first
meetings) iff H_w ≥ E_w, which happens with probability 1 − exp(−H_w). Touch generation does
not depend on outcomes, so the world without channel k is the same world with k's touches
removed: its window converts iff H_w − S_wk ≥ E_w, with the same E_w. A deal draws U_w once
and wins iff U_w < p_w, logit p_w = logit(win_rate[fit]) + Σ_k win_effect_k · min(n_wk, 3);
without k the same U_w is compared with p_w computed without k's touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revloop.generator import catalog as cat
from revloop.generator.config import CHANNELS, DAY, GeneratorConfig
from revloop.generator.draws import (
    BoolArray,
    FloatArray,
    IntArray,
    choice,
    lognormal_mean_one,
    weights,
)
from revloop.generator.market import Accounts, People
from revloop.generator.marketing import Campaigns, Content
from revloop.generator.touches import Touches
from revloop.generator.windows import Windows

N_CH = len(CHANNELS)


def causal_effects(cfg: GeneratorConfig) -> tuple[FloatArray, FloatArray]:
    """Hazard and win effect per touch of each channel; switched-off channels cause nothing
    (their touches still happen: that world is the counterfactual the truth describes)."""
    off = np.array([c.name in cfg.params.removed_channels for c in CHANNELS])
    hazard = np.where(off, 0.0, np.array([c.hazard for c in CHANNELS]))
    win_effect = np.where(off, 0.0, np.array([c.win_effect for c in CHANNELS]))
    return hazard, win_effect
WIN_TOUCH_CAP = 3
NEW, EXPANSION, RENEWAL = 0, 1, 2


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def _logit(p: FloatArray) -> FloatArray:
    out: FloatArray = np.log(p / (1.0 - p))
    return out


@dataclass
class Effects:
    """Sums over windows of what removing each item (channel, campaign, content) changes."""

    touches: FloatArray  # all touches of the item (in market or not)
    in_market_touches: FloatArray  # touches that entered a window's hazard
    opportunities: FloatArray  # realised with common random numbers
    expected_opportunities: FloatArray
    pipeline: FloatArray
    revenue: FloatArray
    expected_revenue: FloatArray

    @staticmethod
    def zeros(n: int) -> Effects:
        return Effects(*(np.zeros(n) for _ in range(7)))

    def add(self, other: Effects) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).__iadd__(getattr(other, name))


@dataclass
class Outcomes:
    """Per window of the block: did it convert, when, for how much, won or lost."""

    exists: BoolArray
    t_decided: IntArray  # when the buying group decided (-1: no opportunity)
    t_opp: IntArray  # when the opportunity was created (after the delay)
    threshold: FloatArray
    baseline: FloatArray
    hazard_total: FloatArray  # what had accumulated by the decision
    win_probability: FloatArray
    won: BoolArray  # eventual outcome (even when it closes after the history)
    amount: FloatArray
    cycle_days: FloatArray
    close_t: IntArray
    kind: IntArray  # NEW or EXPANSION
    product: IntArray
    lost_reason: IntArray
    channels: Effects
    campaigns: Effects
    content: Effects
    # drivers of each opportunity: (window, kind 0 channel / 1 campaign / 2 baseline, item,
    # hazard up to creation, touches up to creation, pivotal)
    driver_window: IntArray
    driver_kind: IntArray
    driver_item: IntArray
    driver_hazard: FloatArray
    driver_touches: IntArray
    driver_pivotal: BoolArray
    window_touches: IntArray  # eligible touches per window
    eligible_touch: IntArray  # rows of the touches that entered a window's hazard …
    eligible_window: IntArray  # … and their window


def _item_effects(n_items: int, item: IntArray, window: IntArray, s_h: FloatArray,
                  total_h: FloatArray, E: FloatArray, exists: BoolArray, amount: FloatArray,
                  won: BoolArray, p_won: FloatArray, p_minus: FloatArray, u_win: FloatArray,
                  touches: FloatArray) -> Effects:
    """Effects of removing items whose (window, item) hazard sums are ``s_h``."""
    exists_minus = (total_h[window] - s_h) >= E[window]
    won_minus = exists_minus & (u_win[window] < p_minus)
    d_opp = exists[window].astype(float) - exists_minus
    e_opp = np.exp(-(total_h[window] - s_h)) - np.exp(-total_h[window])
    won_now = (exists & won)[window].astype(float)
    e_rev_now = (1 - np.exp(-total_h[window])) * p_won[window]
    e_rev_minus = (1 - np.exp(-(total_h[window] - s_h))) * p_minus
    a = amount[window]
    return Effects(
        touches=touches,
        in_market_touches=np.zeros(n_items),
        opportunities=np.bincount(item, d_opp, n_items),
        expected_opportunities=np.bincount(item, e_opp, n_items),
        pipeline=np.bincount(item, d_opp * a, n_items),
        revenue=np.bincount(item, (won_now - won_minus) * a, n_items),
        expected_revenue=np.bincount(item, (e_rev_now - e_rev_minus) * a, n_items),
    )


def simulate_outcomes(cfg: GeneratorConfig, rng: np.random.Generator, accounts: Accounts,
                      people: People, windows: Windows, touches: Touches, campaigns: Campaigns,
                      content: Content) -> Outcomes:
    """Run the causal model on the block's windows and keep the exact counterfactual books."""
    p = cfg.params
    W = windows.n
    fit = accounts.fit[windows.account]
    baseline = np.array(p.baseline_hazard)[fit]
    threshold = rng.exponential(1.0, W)
    # The buying group decides on its own schedule, late in the window: the opportunity opens
    # then (after the time it takes to book the first meetings) if what accumulated by the
    # decision reaches the threshold. The last touch before it is not special.
    decided = windows.start + (rng.uniform(0.35, 1.0, W)
                               * (windows.end - windows.start)).astype(np.int64)
    delay = ((3.0 + np.minimum(rng.exponential(7.0, W), 27.0)) * DAY).astype(np.int64)
    observable = decided + delay < cfg.t1
    length = (windows.end - windows.start).astype(np.float64)
    u_win = rng.random(W)
    # Which window each marketing touch falls in (windows are sorted by account, start).
    acc = people.account[touches.person]
    marketing = (touches.channel < N_CH) & ~touches.reactive & (acc >= 0)
    rows = np.flatnonzero(marketing)
    base_t = cfg.t0 - 400 * DAY
    w_key = windows.account * (1 << 32) + (windows.start - base_t)
    t_key = acc[rows] * (1 << 32) + (touches.t[rows] - base_t)
    w = np.searchsorted(w_key, t_key, side="right") - 1
    ok = (w >= 0)
    w = np.where(ok, w, 0)
    ok &= (windows.account[w] == acc[rows]) & (touches.t[rows] < decided[w])
    rows, w = rows[ok], w[ok]
    order = np.lexsort((touches.t[rows], w))
    rows, w = rows[order], w[order]
    ch = touches.channel[rows]
    camp = touches.campaign[rows]
    cont = touches.content[rows]
    hazard, win_effect = causal_effects(cfg)
    h = (hazard[ch] * np.where(camp >= 0, campaigns.quality[np.maximum(camp, 0)], 1.0)
         * np.where(cont >= 0, content.quality[np.maximum(cont, 0)], 1.0))
    s_h = np.bincount(w * N_CH + ch, h, W * N_CH).reshape(W, N_CH)
    n_wc = np.bincount(w * N_CH + ch, minlength=W * N_CH).reshape(W, N_CH)
    baseline_total = baseline * (decided - windows.start) / length
    total_h = baseline_total + s_h.sum(axis=1)
    # An opportunity that would open after the history is not seen, in any world.
    threshold = np.where(observable, threshold, np.inf)
    exists = total_h >= threshold
    t_decided = np.where(exists, decided, -1)
    t_opp = np.where(exists, decided + delay, -1)
    # Winning, with the same uniform draw in every world.
    capped = np.minimum(n_wc, WIN_TOUCH_CAP)
    logit = _logit(np.array(p.win_rate)[fit]) + capped @ win_effect
    p_won = _sigmoid(logit)
    won = exists & (u_win < p_won)
    p_minus_ch = _sigmoid(logit[:, None] - capped * win_effect[None, :])
    # Deal type (a customer in market again buys an expansion), size and length.
    kind, amount, cycle, close_t = _deals(cfg, rng, accounts, windows, exists, won, t_opp)
    # Channel books (dense: windows × channels).
    exists_minus = (total_h[:, None] - s_h) >= threshold[:, None]
    won_minus = exists_minus & (u_win[:, None] < p_minus_ch)
    d_opp = exists[:, None].astype(float) - exists_minus
    a = amount[:, None]
    e_now = (1 - np.exp(-total_h))[:, None]
    e_minus = 1 - np.exp(-(total_h[:, None] - s_h))
    ch_touches = np.bincount(touches.channel[touches.channel < N_CH], minlength=N_CH)
    channels = Effects(
        touches=ch_touches.astype(float),
        in_market_touches=n_wc.sum(axis=0).astype(float),
        opportunities=d_opp.sum(axis=0),
        expected_opportunities=(e_now - e_minus).sum(axis=0),
        pipeline=(d_opp * a).sum(axis=0),
        revenue=((won[:, None].astype(float) - won_minus) * a).sum(axis=0),
        expected_revenue=((e_now * p_won[:, None] - e_minus * p_minus_ch) * a).sum(axis=0),
    )
    # Campaign books (sparse: the (window, campaign) pairs that exist).
    campaigns_fx = _sparse_effects(campaigns.n, w, camp, h, ch, n_wc, total_h, threshold, exists,
                                   amount, won, p_won, logit, u_win, win_effect,
                                   touches.campaign[touches.campaign >= 0], with_win=True)
    content_fx = _sparse_effects(content.n, w, cont, h, ch, n_wc, total_h, threshold, exists,
                                 amount, won, p_won, logit, u_win, win_effect,
                                 touches.content[touches.content >= 0], with_win=False)
    drivers = _drivers(w, ch, camp, h, exists, baseline_total, exists_minus, total_h,
                       threshold)
    lost_reason = choice(rng, weights([r[1] for r in cat.LOST_REASONS]), W)
    product = choice(rng, weights([r[1] for r in cat.PRODUCTS]), W)
    return Outcomes(
        exists=exists, t_decided=t_decided, t_opp=t_opp, threshold=threshold, baseline=baseline,
        hazard_total=total_h, win_probability=p_won, won=won, amount=amount, cycle_days=cycle,
        close_t=close_t, kind=kind, product=product, lost_reason=lost_reason,
        channels=channels, campaigns=campaigns_fx, content=content_fx,
        driver_window=drivers[0], driver_kind=drivers[1], driver_item=drivers[2],
        driver_hazard=drivers[3], driver_touches=drivers[4], driver_pivotal=drivers[5],
        window_touches=np.bincount(w, minlength=W), eligible_touch=rows, eligible_window=w,
    )


def _sparse_effects(n_items: int, w: IntArray, item: IntArray, h: FloatArray, ch: IntArray,
                    n_wc: IntArray, total_h: FloatArray, threshold: FloatArray, exists: BoolArray,
                    amount: FloatArray, won: BoolArray, p_won: FloatArray, logit: FloatArray,
                    u_win: FloatArray, win_effect: FloatArray, all_items: IntArray,
                    with_win: bool) -> Effects:
    touches = np.bincount(all_items, minlength=n_items).astype(float)
    sel = item >= 0
    if not sel.any():
        fx = Effects.zeros(n_items)
        fx.touches = touches
        return fx
    key = w[sel] * n_items + item[sel]
    pairs, inverse = np.unique(key, return_inverse=True)
    s_h = np.bincount(inverse, h[sel], len(pairs))
    pw, pi = pairs // n_items, pairs % n_items
    if with_win:
        # removing the item removes its touches from its channel's count
        n_pair = np.bincount(inverse, minlength=len(pairs))
        pair_ch = np.zeros(len(pairs), dtype=np.int64)
        pair_ch[inverse] = ch[sel]
        before = np.minimum(n_wc[pw, pair_ch], WIN_TOUCH_CAP)
        after = np.minimum(n_wc[pw, pair_ch] - n_pair, WIN_TOUCH_CAP)
        p_minus = _sigmoid(logit[pw] - (before - after) * win_effect[pair_ch])
    else:
        p_minus = p_won[pw]
    fx = _item_effects(n_items, pi, pw, s_h, total_h, threshold, exists, amount, won, p_won,
                       p_minus, u_win, touches)
    fx.in_market_touches = np.bincount(item[sel], minlength=n_items).astype(float)
    return fx


def _drivers(w: IntArray, ch: IntArray, camp: IntArray, h: FloatArray, exists: BoolArray,
             baseline_total: FloatArray, exists_minus: BoolArray, total_h: FloatArray,
             threshold: FloatArray) -> tuple[IntArray, IntArray, IntArray, FloatArray,
                                             IntArray, BoolArray]:
    """What had accumulated when each opportunity was decided, by channel and by campaign,
    plus the baseline; pivotal = without it the window would not have converted."""
    pre = exists[w]
    wp, chp, hp, cp = w[pre], ch[pre], h[pre], camp[pre]
    key = wp * N_CH + chp
    pairs, inv = np.unique(key, return_inverse=True)
    ch_h = np.bincount(inv, hp, len(pairs))
    ch_n = np.bincount(inv, minlength=len(pairs))
    ch_w, ch_item = pairs // N_CH, pairs % N_CH
    ch_pivotal = ~exists_minus[ch_w, ch_item]
    n_camp = int(cp.max()) + 1 if len(cp) and cp.max() >= 0 else 1
    sel = cp >= 0
    cpairs, cinv = np.unique(wp[sel] * n_camp + cp[sel], return_inverse=True)
    c_h = np.bincount(cinv, hp[sel], len(cpairs))
    c_n = np.bincount(cinv, minlength=len(cpairs))
    c_w, c_item = cpairs // n_camp, cpairs % n_camp
    c_pivotal = (total_h[c_w] - c_h) < threshold[c_w]
    bw = np.flatnonzero(exists)
    b_pivotal = (total_h[bw] - baseline_total[bw]) < threshold[bw]
    return (
        np.concatenate([ch_w, c_w, bw]),
        np.concatenate([np.zeros(len(ch_w), np.int64), np.ones(len(c_w), np.int64),
                        np.full(len(bw), 2, np.int64)]),
        np.concatenate([ch_item, c_item, np.zeros(len(bw), np.int64)]),
        np.concatenate([ch_h, c_h, baseline_total[bw]]),
        np.concatenate([ch_n, c_n, np.zeros(len(bw), np.int64)]),
        np.concatenate([ch_pivotal, c_pivotal, b_pivotal]),
    )


def _deals(cfg: GeneratorConfig, rng: np.random.Generator, accounts: Accounts,
           windows: Windows, exists: BoolArray, won: BoolArray,
           t_opp: IntArray) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Type, amount, cycle length and close time of each window's deal.

    A window that opens an opportunity after an earlier one of the account was won (and
    closed) is an expansion of a customer; otherwise new business.
    """
    p = cfg.params
    W = windows.n
    acv = accounts.acv[windows.account]
    new_amount = np.maximum(np.round(acv * lognormal_mean_one(rng, 0.25, W), -2), 500.0)
    exp_amount = np.maximum(np.round(0.35 * acv * lognormal_mean_one(rng, 0.4, W), -2), 500.0)
    won_cycle = p.cycle_won_median * (new_amount / 20_000.0) ** 0.15
    median = np.where(won, won_cycle, p.cycle_lost_median)
    cycle = np.clip(median * np.exp(rng.normal(0.0, p.cycle_sigma, W)), 7.0, 420.0)
    close_t = np.where(exists, t_opp + (cycle * DAY).astype(np.int64), -1)
    kind = np.full(W, NEW, dtype=np.int64)
    customer_since: dict[int, int] = {}
    never = np.iinfo(np.int64).max
    for k in range(int(windows.rank.max()) + 1 if W else 0):
        rows = np.flatnonzero((windows.rank == k) & exists)
        since = np.array([customer_since.get(int(a), never) for a in windows.account[rows]],
                         dtype=np.int64)
        is_exp = t_opp[rows] > since
        kind[rows] = np.where(is_exp, EXPANSION, NEW)
        for r in rows[won[rows] & ~is_exp]:
            a = int(windows.account[r])
            customer_since[a] = min(customer_since.get(a, never), int(close_t[r]))
    amount = np.where(kind == EXPANSION, exp_amount, new_amount)
    return kind, amount, cycle, close_t
