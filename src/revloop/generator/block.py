"""One block of accounts, simulated end to end into canonical rows and truth partials.

Blocks are independent given the shared world and their own random stream
(``default_rng([seed, 1, block])``), so they can run in any order or in parallel and the
output stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from revloop.generator.deals import (
    Deals,
    Roles,
    build_deals,
    choose_roles,
    reactive_touches,
    sales_touches,
)
from revloop.generator.draws import IntArray
from revloop.generator.lead_funnel import run_lead_funnel
from revloop.generator.market import build_people
from revloop.generator.outcomes import EXPANSION, NEW, RENEWAL, Effects
from revloop.generator.outcomes import simulate_outcomes as _simulate_outcomes
from revloop.generator.rows import BlockRows
from revloop.generator.touches import (
    CHANNEL_NAMES,
    SALES,
    Touches,
    background_touches,
    finish_touches,
    identify,
    in_market_touches,
)
from revloop.generator.windows import build_intent, build_windows
from revloop.generator.world import World

# Bookings classes of the quotas: by what sourced the deal.
QUOTA_CLASSES = ("inbound", "outbound", "events", "partner", "expansion", "renewal")
_CLASS_OF_CHANNEL = {"events": 2, "webinar": 0, "partner": 3, "outbound_sales": 1, "sales": 1}


@dataclass
class BlockResult:
    """Canonical rows, truth rows and the partial sums a block contributes."""

    tables: dict[str, pa.Table]
    channels: Effects
    campaigns: Effects
    content: Effects
    account_windows: IntArray  # (accounts of the block) number of windows
    account_new_deals: IntArray
    account_new_won: IntArray
    bookings: np.ndarray  # (quarters, classes) won amount closed in the quarter
    pipeline: np.ndarray  # (quarters, classes) amount created in the quarter
    rep_bookings: np.ndarray  # (quarters, users)


def simulate_block(world: World, b: int) -> BlockResult:
    """Simulate block ``b`` of the world."""
    cfg = world.cfg
    rng = np.random.default_rng([cfg.seed, 1, b])
    first, last = world.block_range(b)
    acc = world.accounts
    people = build_people(cfg, rng, acc, first, last)
    windows = build_windows(cfg, rng, acc, first, last)
    intent = build_intent(cfg, rng, windows, first, last)
    raw = Touches.concat([background_touches(cfg, rng, people),
                          in_market_touches(cfg, rng, people, windows)])
    touches = finish_touches(cfg, rng, people, raw, world.campaigns, world.content)
    t_id, touches = identify(cfg, people, touches)
    outcomes = _simulate_outcomes(cfg, rng, acc, people, windows, touches, world.campaigns,
                                  world.content)
    deals, customers = build_deals(cfg, rng, acc, windows, outcomes, first, last)
    wp_key = (outcomes.eligible_window * (people.n + 1)
              + touches.person[outcomes.eligible_touch])
    wp_keys, wp_counts = np.unique(wp_key, return_counts=True)
    roles, t_id = choose_roles(cfg, rng, people, deals, wp_keys, wp_counts, t_id)
    touches = Touches.concat([touches, reactive_touches(cfg, rng, deals, roles, outcomes,
                                                        t_id)])
    touches = touches.take(np.lexsort((touches.t, touches.person)))
    funnel = run_lead_funnel(cfg, rng, people, touches, t_id, windows, deals, roles,
                             customers, first, acc.region, world.sdrs_of)
    everything = Touches.concat([touches, sales_touches(cfg, rng, deals, roles),
                                 funnel.follow_ups])
    everything = everything.take(np.lexsort((everything.person, everything.t)))
    rows = BlockRows(world, b, rng, people, t_id, first)
    lead_source = rows.lead_source(touches)
    source_channel = _source_channel(deals, roles, lead_source)
    tables = {
        "contacts": rows.contacts(funnel, customers, lead_source),
        "touchpoints": rows.touchpoints(everything),
        "opportunities": rows.opportunities(deals, source_channel, everything),
        "opportunity_contacts": rows.roles(deals, roles),
        "stage_transitions": pa.concat_tables([
            rows.lead_transitions(funnel, customers),
            rows.opportunity_transitions(deals),
            rows.account_transitions(customers),
        ]),
        "campaign_members": rows.campaign_members(everything),
        "intent_signals": rows.intent(intent),
        "truth_in_market_windows": rows.truth_windows(windows, outcomes, deals),
        "truth_opportunity_drivers": rows.truth_drivers(outcomes, deals),
    }
    nq = len(cfg.quarters)
    bookings, pipeline, rep = _quota_sums(world, deals, source_channel, nq)
    n_local = last - first
    new = deals.kind == NEW
    return BlockResult(
        tables=tables, channels=outcomes.channels, campaigns=outcomes.campaigns,
        content=outcomes.content,
        account_windows=np.bincount(windows.account - first, minlength=n_local),
        account_new_deals=np.bincount(deals.account[new] - first, minlength=n_local),
        account_new_won=np.bincount(deals.account[new & deals.won] - first, minlength=n_local),
        bookings=bookings, pipeline=pipeline, rep_bookings=rep,
    )


def _source_channel(deals: Deals, roles: Roles, lead_source: IntArray) -> IntArray:
    """What sourced each deal: its primary contact's original channel (CRM practice); a
    deal nobody from marketing led to is outbound; renewals and upsells are sales."""
    primary = roles.rank == 0
    out = np.full(deals.n, CHANNEL_NAMES.index("outbound_sales"), dtype=np.int64)
    src = lead_source[roles.person[primary]]
    out[roles.deal[primary]] = np.where(src >= 0, src, out[roles.deal[primary]])
    out[deals.window < 0] = SALES
    return out


def _quota_sums(world: World, deals: Deals, source_channel: IntArray,
                nq: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cfg = world.cfg
    starts = np.array([q[0] for q in cfg.quarters])
    cls = np.array([_CLASS_OF_CHANNEL.get(CHANNEL_NAMES[c], 0) for c in source_channel],
                   dtype=np.int64)
    cls = np.where(deals.kind == EXPANSION, 4, np.where(deals.kind == RENEWAL, 5, cls))
    won = deals.won & (deals.close < cfg.t1) & (deals.close >= cfg.t0)
    q_close = np.clip(np.searchsorted(starts, deals.close, side="right") - 1, 0, nq - 1)
    bookings = np.zeros((nq, len(QUOTA_CLASSES)))
    np.add.at(bookings, (q_close[won], cls[won]), deals.amount[won])
    created = (deals.created >= cfg.t0) & (deals.created < cfg.t1)
    q_created = np.clip(np.searchsorted(starts, deals.created, side="right") - 1, 0, nq - 1)
    pipeline = np.zeros((nq, len(QUOTA_CLASSES)))
    np.add.at(pipeline, (q_created[created], cls[created]), deals.amount[created])
    rep = np.zeros((nq, len(world.team.user_names)))
    owner = world.accounts.owner[deals.account]
    np.add.at(rep, (q_close[won], owner[won]), deals.amount[won])
    return bookings, pipeline, rep
