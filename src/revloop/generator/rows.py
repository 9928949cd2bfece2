"""One block's simulated arrays rendered as canonical rows (Arrow tables): people, deals,
touches, stage history, intent, and the truth rows of the in-market windows and deal drivers.

Repeated values (URLs, JSON properties) are rendered once per distinct value and taken.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revloop.generator import catalog as cat
from revloop.generator.arrow_util import (
    bools,
    dates,
    days_to_dates,
    floats,
    from_keys,
    hex_ids,
    ids,
    iso,
    join,
    pick,
    previous_in_group,
    take,
    timestamps,
)
from revloop.generator.config import CHANNELS, DAY
from revloop.generator.deals import (
    Customers,
    Deals,
    Roles,
    stage_history,
)
from revloop.generator.draws import IntArray
from revloop.generator.lead_funnel import LEAD_STAGES, REASONS, LeadFunnel
from revloop.generator.market import People
from revloop.generator.outcomes import RENEWAL, Outcomes
from revloop.generator.touches import (
    CHANNEL_NAMES,
    IS_WEB,
    PAGES,
    SALES,
    TOUCH_TYPES,
    Touches,
)
from revloop.generator.windows import Intent, Windows
from revloop.generator.world import SITE, World, ascii_slug

SOURCE = "generator"
OPP_STAGES: tuple[str, ...] = (*(s[0] for s in cat.OPPORTUNITY_STAGES), "closed_won",
                               "closed_lost")
OPP_PROBABILITY = np.array([*(s[1] for s in cat.OPPORTUNITY_STAGES), 100.0, 0.0])
KINDS = ("new", "expansion", "renewal")
LEGACY_SOURCES = ("events", "organic_search", "paid_search", "partner", "referral", "other")
DEVICES = ("desktop", "desktop", "desktop", "mobile", "mobile", "tablet")
UTM: dict[str, tuple[str, str]] = {
    "paid_search": ("google", "cpc"), "paid_social": ("linkedin", "paid_social"),
    "display": ("dv360", "display"), "email": ("newsletter", "email"),
    "content_syndication": ("syndication", "referral"), "partner": ("partner", "referral"),
}
LEAD_STATUS = {"inquiry": "new", "mql": "open", "sal": "working", "recycled": "nurture",
               "disqualified": "disqualified", "sql": "qualified", "opportunity": "qualified",
               "customer": "qualified"}

class BlockRows:
    """Canonical rows of a block."""

    def __init__(self, world: World, b: int, rng: np.random.Generator, people: People,
                 t_id: IntArray, first: int) -> None:
        self.world = world
        self.cfg = world.cfg
        self.b = b
        self.rng = rng
        self.people = people
        self.t_id = t_id
        self.first = first
        acc = np.maximum(people.account, 0)
        member_ids = join("ct-", ids("", acc, 6), "-", ids("", people.member, 2))
        noise_ids = join(f"ct-x{b:04d}-", ids("", people.member, 5))
        self.person_ids = pc.if_else(pa.array(people.account < 0), noise_ids, member_ids)
        self.cookies = hex_ids(people.cookie)
        # an office network that reverse-IP lookup resolves to the account
        self.reverse_ip = (rng.random(people.n) < 0.4) & (people.account >= 0)

    # -- people --------------------------------------------------------------------------

    def lead_source(self, touches: Touches) -> IntArray:
        """Channel index of each person's first touch (the CRM's original source); people
        already in the CRM keep a legacy source; -1 for nobody touched."""
        out = np.full(self.people.n, -1, dtype=np.int64)
        rows = np.flatnonzero(touches.channel != SALES)
        if len(rows):
            person = touches.person[rows]
            first = np.r_[True, person[1:] != person[:-1]]
            out[person[first]] = touches.channel[rows][first]
        legacy = [CHANNEL_NAMES.index(s) if s in CHANNEL_NAMES else SALES
                  for s in LEGACY_SOURCES]
        base = self.people.base_created >= 0
        out[base] = np.array(legacy)[self.rng.integers(0, len(legacy), int(base.sum()))]
        return out

    def _record_type(self, funnel: LeadFunnel, customers: Customers) -> np.ndarray:
        acc = self.people.account
        local = np.where(acc >= 0, acc - self.first, 0)
        customer = (acc >= 0) & (customers.since[local] < self.cfg.t1)
        contact: np.ndarray = (acc >= 0) & (funnel.reached_sql | customer)
        return contact

    def contacts(self, funnel: LeadFunnel, customers: Customers,
                 lead_source: IntArray) -> pa.Table:
        p = self.people
        cfg = self.cfg
        known = (self.t_id < cfg.t1) & ~p.hidden
        sel = np.flatnonzero(known)
        is_contact = self._record_type(funnel, customers)[sel]
        # current stage: the last transition of each person
        last_stage = np.full(p.n, 0, dtype=np.int64)
        if len(funnel.person):
            ends = np.r_[funnel.person[1:] != funnel.person[:-1], True]
            last_stage[funnel.person[ends]] = funnel.stage[ends]
        stage_names = pick(LEAD_STAGES, last_stage[sel])
        status = pick([LEAD_STATUS[s] for s in LEAD_STAGES], last_stage[sel], ~is_contact)
        world = self.world
        acc = p.account[sel]
        has_acc = acc >= 0
        first_names = pa.array(list(cat.FIRST_NAMES)).take(pa.array(p.first[sel]))
        last_names = pa.array(list(cat.LAST_NAMES)).take(pa.array(p.last[sel]))
        email = self._emails(sel)
        seniority = pick([s[0] for s in cat.SENIORITIES], p.seniority[sel])
        function = pick([f[0] for f in cat.FUNCTIONS], p.function[sel])
        titles = pa.array([cat.title_for(cat.SENIORITIES[s][0], cat.FUNCTIONS[f][0])
                           for s, f in zip(p.seniority[sel], p.function[sel], strict=True)])
        countries = [c[0] for c in cat.COUNTRIES]
        country = np.where(has_acc, world.accounts.country[np.maximum(acc, 0)],
                           self.rng.integers(0, len(countries), len(sel)))
        sdr = funnel.sdr[sel]
        owner = np.where(sdr >= 0, sdr, np.where(has_acc, world.accounts.owner[
            np.maximum(acc, 0)], -1))
        assigned = funnel.assigned_at[sel] >= 0
        custom = pc.if_else(
            pa.array(assigned),
            join('{"sdr_assigned_at": "', iso(np.maximum(funnel.assigned_at[sel], 0)),
                 '", "first_follow_up_at": "', iso(np.maximum(funnel.follow_up_at[sel], 0)),
                 '"}'),
            pa.nulls(len(sel), pa.string()))
        return pa.table({
            "contact_id": self.person_ids.take(pa.array(sel)),
            "record_type": pa.array(np.where(is_contact, "contact", "lead")),
            "account_id": take(world.account_ids, acc, has_acc),
            "email": email,
            "first_name": first_names,
            "last_name": last_names,
            "company": pc.if_else(pa.array(~is_contact),
                                  take(world.account_names, acc, has_acc),
                                  pa.nulls(len(sel), pa.string())),
            "title": titles,
            "seniority": seniority,
            "function": function,
            "country": pick(countries, country),
            "lifecycle_stage": stage_names,
            "lead_status": status,
            "owner_id": take(world.user_ids, owner),
            "lead_source": pick(CHANNEL_NAMES, lead_source[sel]),
            "created_at": timestamps(self.t_id[sel]),
            "is_unsubscribed": bools(self.rng.random(len(sel)) < 0.04),
            "source": pa.array([SOURCE] * len(sel)),
            "custom": custom,
        })

    def _emails(self, sel: IntArray) -> pa.Array:
        p = self.people
        first = pa.array([ascii_slug(n) for n in cat.FIRST_NAMES]).take(pa.array(p.first[sel]))
        last = pa.array([ascii_slug(n) for n in cat.LAST_NAMES]).take(pa.array(p.last[sel]))
        # two people of one account with the same name: a number tells them apart
        code = (p.account[sel] + 1) * 10_000 + p.first[sel] * 100 + p.last[sel]
        order = np.argsort(code, kind="stable")
        sc = code[order]
        starts = np.r_[True, sc[1:] != sc[:-1]] if len(sc) else np.zeros(0, bool)
        rank_sorted = np.arange(len(sc)) - np.maximum.accumulate(
            np.where(starts, np.arange(len(sc)), 0)) if len(sc) else sc
        rank = np.empty_like(rank_sorted)
        rank[order] = rank_sorted
        digits = pc.if_else(pa.array(rank > 0), pa.array(rank).cast(pa.string()), "")
        free = p.free_mail[sel]
        free_domain = pa.array(list(cat.FREE_MAIL)).take(
            pa.array(p.member[sel] % len(cat.FREE_MAIL)))
        acc = p.account[sel]
        work_domain = take(self.world.account_domains, acc, acc >= 0)
        tag = join(ids("", np.maximum(acc, 0), 6), ids("", p.member[sel], 2))
        noise_tag = join(f"x{self.b}", pa.array(p.member[sel]).cast(pa.string()))
        free_tag = pc.if_else(pa.array(acc >= 0), tag, noise_tag)
        local = join(first, ".", last, digits)
        return pc.if_else(pa.array(free), join(local, ".", free_tag, "@", free_domain),
                          join(local, "@", work_domain))

    def lead_transitions(self, funnel: LeadFunnel, customers: Customers) -> pa.Table:
        person = funnel.person
        is_contact = self._record_type(funnel, customers)[person]
        prev = previous_in_group(person, funnel.stage)
        return _transitions(
            entity_type=pa.array(np.where(is_contact, "contact", "lead")),
            entity_id=self.person_ids.take(pa.array(person)),
            from_stage=pick(LEAD_STAGES, prev), to_stage=pick(LEAD_STAGES, funnel.stage),
            t=funnel.t, reason=pick(REASONS, funnel.reason, funnel.reason > 0))

    # -- deals ---------------------------------------------------------------------------

    def deal_ids(self, deals: Deals) -> pa.Array:
        return join("op-", ids("", deals.account, 6), "-", ids("", deals.seq, 2))

    def opportunities(self, deals: Deals, source_channel: IntArray,
                      touches: Touches) -> pa.Table:
        cfg = self.cfg
        world = self.world
        d, s, _, _, _ = stage_history(cfg, deals)
        last_stage = np.zeros(deals.n, dtype=np.int64)
        if len(d):
            ends = np.r_[d[1:] != d[:-1], True]
            last_stage[d[ends]] = s[ends]
        closed = deals.close < cfg.t1
        won = closed & deals.won
        kind_names = pick(KINDS, deals.kind)
        product = pick([p[0] for p in cat.PRODUCTS], deals.product)
        suffix = pick(["", " expansion", " renewal"], deals.kind)
        name = join(world.account_names.take(pa.array(deals.account)), " — ", product, suffix)
        region = world.accounts.region[deals.account]
        csm = np.array([world.team.csms_by_region[int(r)][0] for r in region], dtype=np.int64) \
            if deals.n else np.zeros(0, np.int64)
        owner = np.where(deals.kind == RENEWAL, csm, world.accounts.owner[deals.account])
        segments = [sg[0] for sg in cat.SEGMENTS]
        seg = pick(segments, world.accounts.segment[deals.account])
        return pa.table({
            "opportunity_id": self.deal_ids(deals),
            "account_id": world.account_ids.take(pa.array(deals.account)),
            "name": name,
            "amount": floats(deals.amount),
            "currency": pa.array(["USD"] * deals.n, pa.string()),
            "stage": pick(OPP_STAGES, last_stage),
            "opportunity_type": kind_names,
            "source_channel": pick(CHANNEL_NAMES, source_channel),
            "primary_campaign_id": take(world.campaign_ids,
                                        self._primary_campaign(deals, touches)),
            "owner_id": world.user_ids.take(pa.array(owner)),
            "product": product,
            "probability": floats(OPP_PROBABILITY[last_stage]),
            "created_at": timestamps(deals.created),
            "close_date": dates(deals.close),
            "is_closed": bools(closed),
            "is_won": bools(won),
            "lost_reason": pick([r[0] for r in cat.LOST_REASONS], deals.lost_reason,
                                closed & ~deals.won),
            "source": pa.array([SOURCE] * deals.n, pa.string()),
            "custom": join('{"segment": "', seg, '"}'),
        })

    def _primary_campaign(self, deals: Deals, touches: Touches) -> IntArray:
        """The CRM's primary campaign: the last campaign an account's person responded to
        in the 90 days before the deal was created."""
        acc = self.people.account[touches.person]
        rows = np.flatnonzero((touches.campaign >= 0) & (acc >= 0)
                              & (touches.t >= self.t_id[touches.person]))
        base_t = self.cfg.t0 - 800 * DAY
        key = acc[rows] * (1 << 34) + (touches.t[rows] - base_t)
        order = np.argsort(key, kind="stable")
        key, camp = key[order], touches.campaign[rows][order]
        out = np.full(deals.n, -1, dtype=np.int64)
        if len(key) == 0 or deals.n == 0:
            return out
        look = deals.account * (1 << 34) + (np.maximum(deals.created, base_t) - base_t)
        pos = np.searchsorted(key, look, side="left") - 1
        pc_ = np.maximum(pos, 0)
        ok = (pos >= 0) & (key[pc_] >> 34 == deals.account) & (
            (key[pc_] & ((1 << 34) - 1)) + base_t >= deals.created - 90 * DAY)
        out[ok] = camp[pc_][ok]
        return out

    def roles(self, deals: Deals, roles: Roles) -> pa.Table:
        rec = np.flatnonzero(roles.recorded)
        role_idx = np.where(roles.rank[rec] == 0, 0, 1 + (roles.rank[rec] % 4))
        return pa.table({
            "opportunity_id": self.deal_ids(deals).take(pa.array(roles.deal[rec])),
            "contact_id": self.person_ids.take(pa.array(roles.person[rec])),
            "role": pick(cat.ROLES, role_idx),
            "is_primary": bools(roles.rank[rec] == 0),
            "source": pa.array([SOURCE] * len(rec), pa.string()),
        })

    def opportunity_transitions(self, deals: Deals) -> pa.Table:
        d, s, t, amount, expected_close = stage_history(self.cfg, deals)
        prev = previous_in_group(d, s)
        lost = s == 5
        return _transitions(
            entity_type=pa.array(["opportunity"] * len(d), pa.string()),
            entity_id=self.deal_ids(deals).take(pa.array(d)),
            from_stage=pick(OPP_STAGES, prev), to_stage=pick(OPP_STAGES, s), t=t,
            reason=pick([r[0] for r in cat.LOST_REASONS], deals.lost_reason[d], lost),
            amount=floats(amount), probability=floats(OPP_PROBABILITY[s]),
            close_date=dates(expected_close))

    def account_transitions(self, customers: Customers) -> pa.Table:
        never = np.iinfo(np.int64).max
        became = np.flatnonzero(customers.since < never)
        churned = np.flatnonzero(customers.churned >= 0)
        churned = churned[customers.churned[churned] < self.cfg.t1]
        acc = np.r_[became, churned] + self.first
        stage = np.r_[np.zeros(len(became), np.int64), np.ones(len(churned), np.int64)]
        t = np.r_[customers.since[became], customers.churned[churned]]
        return _transitions(
            entity_type=pa.array(["account"] * len(acc), pa.string()),
            entity_id=self.world.account_ids.take(pa.array(acc)),
            from_stage=pick(["", "customer"], stage, stage > 0),
            to_stage=pick(["customer", "churned"], stage), t=t,
            reason=pick(["non_renewal"], np.zeros(len(acc), np.int64), stage > 0))

    # -- touches -------------------------------------------------------------------------

    def touchpoints(self, tt: Touches) -> pa.Table:
        p = self.people
        world = self.world
        n = tt.n
        known = (tt.t >= self.t_id[tt.person]) & ~p.hidden[tt.person]
        acc = p.account[tt.person]
        web = IS_WEB[tt.ttype]
        visible = (acc >= 0) & (known | (web & self.reverse_ip[tt.person]))
        ch_names = pick(CHANNEL_NAMES, np.arange(len(CHANNEL_NAMES)))
        channel = ch_names.take(pa.array(tt.channel))
        n_ch = len(CHANNEL_NAMES)
        tagged = np.array([c in UTM for c in CHANNEL_NAMES])[tt.channel]
        # URLs and properties repeat a few hundred distinct values: build those, then take.
        base = np.where(tt.content >= 0, len(PAGES) + tt.content, np.maximum(tt.page, 0))
        url_key = base * (n_ch + 1) + np.where(tagged, tt.channel, n_ch)
        url = from_keys(url_key, web, lambda k: self._url(int(k), n_ch))
        device = self.rng.integers(0, len(DEVICES), n)
        prop_key = device * (n_ch + 1) + np.where(tagged, tt.channel, n_ch)
        props = from_keys(prop_key, web, lambda k: _properties(int(k), n_ch))
        seq = np.arange(n)
        return pa.table({
            "touchpoint_id": join(f"tp-{self.b:04d}-", ids("", seq, 8)),
            "occurred_at": timestamps(tt.t),
            "account_id": take(world.account_ids, acc, visible),
            "contact_id": take(self.person_ids, tt.person, known),
            "anonymous_id": take(self.cookies, tt.person, web),
            "touch_type": pick(TOUCH_TYPES, tt.ttype),
            "channel": channel,
            "campaign_id": take(world.campaign_ids, tt.campaign),
            "content_id": take(world.content_ids, tt.content),
            "url": url,
            "properties": props,
            "source": pa.array([SOURCE] * n, pa.string()),
        })

    def _url(self, key: int, n_ch: int) -> str:
        base, channel = divmod(key, n_ch + 1)
        if base < len(PAGES):
            url = SITE + PAGES[base]
        else:
            url = str(self.world.content_urls[base - len(PAGES)])
        if channel < n_ch:
            source, medium = UTM[CHANNEL_NAMES[channel]]
            url += f"?utm_source={source}&utm_medium={medium}"
        return url

    def campaign_members(self, tt: Touches) -> pa.Table:
        known = (tt.t >= self.t_id[tt.person]) & ~self.people.hidden[tt.person]
        rows = np.flatnonzero((tt.campaign >= 0) & known)
        camp, person, t, ttype = tt.campaign[rows], tt.person[rows], tt.t[rows], tt.ttype[rows]
        key = camp * (self.people.n + 1) + person
        order = np.lexsort((t, key))
        key, camp, person, t, ttype = key[order], camp[order], person[order], t[order], ttype[
            order]
        first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
        group = np.cumsum(first) - 1
        responded_type = ttype != TOUCH_TYPES.index("email_open")
        n_groups = int(first.sum())
        resp_t = np.full(n_groups, np.iinfo(np.int64).max)
        np.minimum.at(resp_t, group[responded_type], t[responded_type])
        has_resp = resp_t < np.iinfo(np.int64).max
        channel = self.world.campaigns.channel[camp[first]]
        ch_name = np.array([c.name for c in CHANNELS])[channel]
        status = np.where(np.isin(ch_name, ["webinar", "events"]), "Attended",
                          np.where(ch_name == "email", np.where(has_resp, "Clicked", "Opened"),
                                   np.where(has_resp, "Responded", "Sent")))
        return pa.table({
            "campaign_id": self.world.campaign_ids.take(pa.array(camp[first])),
            "contact_id": self.person_ids.take(pa.array(person[first])),
            "status": pa.array(status.astype(object), pa.string()),
            "has_responded": bools(has_resp),
            "created_at": timestamps(t[first]),
            "first_responded_at": timestamps(np.where(has_resp, resp_t, 0), has_resp),
            "source": pa.array([SOURCE] * n_groups, pa.string()),
        })

    def intent(self, intent: Intent) -> pa.Table:
        return pa.table({
            "account_id": self.world.account_ids.take(pa.array(intent.account)),
            "topic": pick(cat.TOPICS, intent.topic),
            "day": days_to_dates(intent.day),
            "score": floats(intent.score),
            "source": pa.array([SOURCE] * len(intent.day), pa.string()),
        })

    # -- truth ---------------------------------------------------------------------------

    def _window_deal(self, windows_n: int, deals: Deals) -> IntArray:
        out = np.full(windows_n, -1, dtype=np.int64)
        has = deals.window >= 0
        out[deals.window[has]] = np.flatnonzero(has)
        return out

    def truth_windows(self, windows: Windows, outcomes: Outcomes, deals: Deals) -> pa.Table:
        deal_of = self._window_deal(windows.n, deals)
        topics = pc.binary_join_element_wise(
            pick(cat.TOPICS, windows.topics[:, 0]),
            pc.coalesce(join(",", pick(cat.TOPICS, windows.topics[:, 1])), ""),
            pc.coalesce(join(",", pick(cat.TOPICS, windows.topics[:, 2])), ""), "")
        return pa.table({
            "window_id": join("w-", ids("", windows.account, 6), "-",
                              pa.array(windows.rank).cast(pa.string())),
            "account_id": self.world.account_ids.take(pa.array(windows.account)),
            "window_start": timestamps(windows.start),
            "window_end": timestamps(windows.end),
            "topics": topics,
            "baseline_hazard": floats(outcomes.baseline),
            "hazard_at_decision": floats(outcomes.hazard_total),
            "threshold": floats(outcomes.threshold),
            "touches": pa.array(outcomes.window_touches.astype(np.int64)),
            "converted": bools(outcomes.exists),
            "decided_at": timestamps(np.maximum(outcomes.t_decided, 0), outcomes.exists),
            "opportunity_id": take(self.deal_ids(deals), deal_of),
            "opportunity_type": pick(KINDS, outcomes.kind, outcomes.exists),
            "win_probability": floats(outcomes.win_probability),
            "won": bools(outcomes.won, outcomes.exists),
        })

    def truth_drivers(self, outcomes: Outcomes, deals: Deals) -> pa.Table:
        deal_of = self._window_deal(len(outcomes.exists), deals)
        w = outcomes.driver_window
        kind = outcomes.driver_kind
        item = outcomes.driver_item
        channel_names = [c.name for c in CHANNELS]
        driver = pc.if_else(
            pa.array(kind == 0), pick(channel_names, np.where(kind == 0, item, 0)),
            pc.if_else(pa.array(kind == 1),
                       take(self.world.campaign_ids, np.where(kind == 1, item, 0)),
                       "baseline"))
        total = np.bincount(w, outcomes.driver_hazard * (kind != 1), len(outcomes.exists))
        share = outcomes.driver_hazard / np.maximum(total[w], 1e-12)
        return pa.table({
            "opportunity_id": take(self.deal_ids(deals), deal_of[w]),
            "driver_type": pick(["channel", "campaign", "baseline"], kind),
            "driver": driver,
            "touches": pa.array(outcomes.driver_touches.astype(np.int64)),
            "hazard": floats(outcomes.driver_hazard),
            "share": floats(share),
            "pivotal": bools(outcomes.driver_pivotal),
        })


def _properties(key: int, n_ch: int) -> str:
    device, channel = divmod(key, n_ch + 1)
    doc = {"device": DEVICES[device]}
    if channel < n_ch:
        doc["utm_source"], doc["utm_medium"] = UTM[CHANNEL_NAMES[channel]]
    return json.dumps(doc)


def _transitions(entity_type: pa.Array, entity_id: pa.Array, from_stage: pa.Array,
                 to_stage: pa.Array, t: IntArray, reason: pa.Array,
                 amount: pa.Array | None = None, probability: pa.Array | None = None,
                 close_date: pa.Array | None = None) -> pa.Table:
    n = len(t)
    return pa.table({
        "entity_type": entity_type,
        "entity_id": entity_id,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "occurred_at": timestamps(t),
        "amount": amount if amount is not None else pa.nulls(n, pa.float64()),
        "probability": probability if probability is not None else pa.nulls(n, pa.float64()),
        "close_date": close_date if close_date is not None else pa.nulls(n, pa.date32()),
        "reason": reason,
        "source": pa.array([SOURCE] * n, pa.string()),
    })
