"""Touchpoints: out-of-market background activity, in-market research by the buying group,
campaign and content assignment, and identification (anonymous until a form, a registration
or a badge scan names the person)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from revloop.generator.config import (
    CHANNEL_INDEX,
    CHANNELS,
    CONTENT_TOUCHES,
    DAY,
    IDENTIFYING_TOUCHES,
    WEB_TOUCHES,
    GeneratorConfig,
)
from revloop.generator.draws import (
    BoolArray,
    IntArray,
    choice,
    office_times,
    repeat_index,
    weights,
)
from revloop.generator.market import People
from revloop.generator.marketing import Campaigns, Content, assign_campaigns, assign_content
from revloop.generator.windows import LEAD_IN_DAYS, Windows

TOUCH_TYPES: tuple[str, ...] = (
    "visit", "content_view", "email_open", "email_click", "ad_click", "form_fill", "webinar",
    "event", "meeting", "call",
)
TYPE_INDEX = {t: i for i, t in enumerate(TOUCH_TYPES)}
SALES = len(CHANNELS)  # channel index of reps' own meetings and calls
CHANNEL_NAMES: tuple[str, ...] = (*(c.name for c in CHANNELS), "sales")
NEEDS_IDENTITY = frozenset({"email_open", "email_click", "call"})
PAGES: tuple[str, ...] = (
    "/", "/product", "/pricing", "/demo", "/blog", "/customers", "/integrations", "/about",
    "/careers", "/docs",
)
PRICING_PAGES = (PAGES.index("/pricing"), PAGES.index("/demo"))


def _mask(names: frozenset[str]) -> BoolArray:
    return np.array([t in names for t in TOUCH_TYPES])


IS_WEB = _mask(WEB_TOUCHES)
IS_IDENTIFYING = _mask(IDENTIFYING_TOUCHES)
HAS_CONTENT = _mask(CONTENT_TOUCHES)
NEEDS_ID = _mask(NEEDS_IDENTITY)


@dataclass
class Touches:
    """Touchpoints of a block as parallel arrays (``person`` indexes the block's people)."""

    person: IntArray
    t: IntArray
    channel: IntArray
    ttype: IntArray
    campaign: IntArray
    content: IntArray
    page: IntArray
    in_market: BoolArray  # drawn by the in-market process (for the record only)
    reactive: BoolArray  # caused by the buying decision, not a cause of it

    @property
    def n(self) -> int:
        return len(self.t)

    def take(self, idx: IntArray | BoolArray) -> Touches:
        return Touches(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Touches]) -> Touches:
        return Touches(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                          for f in fields(Touches)})

    @staticmethod
    def new(person: IntArray, t: IntArray, channel: IntArray, ttype: IntArray,
            in_market: bool = False, reactive: bool = False) -> Touches:
        n = len(t)
        return Touches(person=person, t=t, channel=channel, ttype=ttype,
                       campaign=np.full(n, -1, dtype=np.int64),
                       content=np.full(n, -1, dtype=np.int64),
                       page=np.full(n, -1, dtype=np.int64),
                       in_market=np.full(n, in_market), reactive=np.full(n, reactive))


def _types_for(rng: np.random.Generator, channel: IntArray) -> IntArray:
    ttype = np.zeros(len(channel), dtype=np.int64)
    for c, ch in enumerate(CHANNELS):
        rows = np.flatnonzero(channel == c)
        if len(rows):
            names = [TYPE_INDEX[t] for t, _ in ch.touch_types]
            pick = choice(rng, weights([w for _, w in ch.touch_types]), len(rows))
            ttype[rows] = np.array(names)[pick]
    return ttype


def background_touches(cfg: GeneratorConfig, rng: np.random.Generator,
                       people: People) -> Touches:
    """Activity that has nothing to do with buying: web visits, ads, social, newsletters.

    Buying-group members are active over the whole history; a noise lead (student, job
    seeker, competitor) is busy for about two months around a random date and reads the
    newsletter afterwards; an anonymous visitor from outside the target accounts comes a few
    times within a month. Newsletters reach only known people (``identify`` drops the rest).
    """
    p = cfg.params
    n = people.n
    noise, visitor = people.noise, people.visitor
    busy_from = cfg.t0 + (rng.random(n) * (cfg.days - 60) * DAY).astype(np.int64)
    start = np.where(noise | visitor, busy_from, cfg.t0)
    end = np.where(noise, busy_from + 60 * DAY,
                   np.where(visitor, busy_from + 30 * DAY, cfg.t1))
    rate = np.where(noise, 0.12 * people.engagement,
                    p.background_touches_per_day * people.engagement)
    count = np.where(visitor, 1 + rng.poisson(max(p.visitor_touches_mean - 1, 0), n),
                     rng.poisson(rate * (end - start) / DAY))
    person = repeat_index(count)
    t = office_times(rng, start[person], end[person], p.weekend_weight)
    channel = np.where(visitor[person],
                       choice(rng, weights([c.anonymous for c in CHANNELS]), len(t)),
                       choice(rng, weights([c.background for c in CHANNELS]), len(t)))
    web = Touches.new(person, t, channel, _types_for(rng, channel))
    # newsletters: everyone who may become known, from when they could be on the list
    reader = ~visitor & ~people.hidden
    n_start = np.where(noise, busy_from, cfg.t0)
    n_count = np.where(reader, rng.poisson(p.newsletter_touches_per_day * np.sqrt(
        people.engagement) * (cfg.t1 - n_start) / DAY), 0)
    reader_of = repeat_index(n_count)
    nt = office_times(rng, n_start[reader_of], np.full(len(reader_of), cfg.t1),
                      p.weekend_weight)
    email = np.full(len(nt), CHANNEL_INDEX["email"], dtype=np.int64)
    return Touches.concat([web, Touches.new(reader_of, nt, email, _types_for(rng, email))])


def in_market_touches(cfg: GeneratorConfig, rng: np.random.Generator, people: People,
                      windows: Windows) -> Touches:
    """The buying group's research while its account is in market (and just before)."""
    p = cfg.params
    if windows.n == 0:
        return Touches.new(*(np.zeros(0, dtype=np.int64),) * 4)
    # people of each window's account: the block's members are grouped by account
    members = np.flatnonzero(people.account >= 0)
    m_acc = people.account[members]
    first = np.searchsorted(m_acc, windows.account, side="left")
    last = np.searchsorted(m_acc, windows.account, side="right")
    size = last - first
    w_idx = repeat_index(size)
    person = members[first[w_idx] + np.arange(len(w_idx)) - np.repeat(np.r_[0, np.cumsum(size)[
        :-1]], size)]
    eng = people.engagement[person]
    joins = rng.random(len(person)) < np.clip(p.window_participation * np.sqrt(eng), 0.05, 0.95)
    w_idx, person, eng = w_idx[joins], person[joins], eng[joins]
    start = np.maximum(windows.start[w_idx] - LEAD_IN_DAYS * DAY, cfg.t0)
    end = np.minimum(windows.end[w_idx], cfg.t1)
    ok = end > start
    w_idx, person, eng, start, end = w_idx[ok], person[ok], eng[ok], start[ok], end[ok]
    count = rng.poisson(p.in_market_touches_per_day * eng * (end - start) / DAY)
    row = repeat_index(count)
    t = office_times(rng, start[row], end[row], p.weekend_weight)
    # Buyers move from awareness to evaluation to decision: the channel mix follows the
    # touch's phase in the window (lead-in included).
    span = np.maximum(end[row] - start[row], 1)
    phase = np.minimum(((t - start[row]) * 3) // span, 2)
    channel = np.zeros(len(t), dtype=np.int64)
    for k in range(3):
        rows = np.flatnonzero(phase == k)
        channel[rows] = choice(rng, weights([c.in_market[k] for c in CHANNELS]), len(rows))
    return Touches.new(person[row], t, channel, _types_for(rng, channel), in_market=True)


def finish_touches(cfg: GeneratorConfig, rng: np.random.Generator, people: People,
                   touches: Touches, campaigns: Campaigns, content: Content) -> Touches:
    """Campaigns (and event days), content, pages; anonymous-only people never fill forms."""
    hidden = people.hidden[touches.person]
    ttype = touches.ttype.copy()
    ttype[hidden & (ttype == TYPE_INDEX["form_fill"])] = TYPE_INDEX["content_view"]
    touches.ttype = ttype
    touches = touches.take(~(hidden & ~IS_WEB[ttype]))
    camp, t = assign_campaigns(rng, cfg, campaigns, touches.channel, touches.t)
    touches.campaign, touches.t = camp, np.minimum(t, cfg.t1 - 1)
    wants = HAS_CONTENT[touches.ttype] & (rng.random(touches.n) < 0.85)
    rows = np.flatnonzero(wants)
    touches.content[rows] = assign_content(rng, content, touches.t[rows])
    web = IS_WEB[touches.ttype]
    pricing_share = np.where(touches.in_market, 0.25, 0.05)
    page = rng.integers(0, len(PAGES), touches.n)
    to_pricing = rng.random(touches.n) < pricing_share
    page = np.where(to_pricing, np.array(PRICING_PAGES)[rng.integers(0, 2, touches.n)], page)
    touches.page = np.where(web & (touches.content < 0), page, -1)
    order = np.lexsort((touches.t, touches.person))
    return touches.take(order)


def identify(cfg: GeneratorConfig, people: People, touches: Touches) -> tuple[IntArray,
                                                                               Touches]:
    """When each person becomes known (``t_id``; a huge number if never), and the touches
    that can happen: e-mails and calls need a known person, so earlier ones are dropped.

    People already in the CRM are known from their creation; others from their first form
    fill, webinar or event registration, or meeting. Touches must be sorted by person.
    """
    never = np.iinfo(np.int64).max
    t_id = np.where(people.base_created >= 0, people.base_created, never)
    ident = IS_IDENTIFYING[touches.ttype] & ~people.hidden[touches.person]
    rows = np.flatnonzero(ident)
    if len(rows):
        first = np.r_[True, touches.person[rows][1:] != touches.person[rows][:-1]]
        who = touches.person[rows][first]
        t_id[who] = np.minimum(t_id[who], touches.t[rows][first])
    keep = ~(NEEDS_ID[touches.ttype] & (touches.t < t_id[touches.person]))
    return t_id, touches.take(keep)
