"""Campaigns (per channel and quarter, webinars and events on their own dates) and the content
library (topics, formats, funnel stage, heavy-tailed popularity)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from revloop.generator import catalog as cat
from revloop.generator.config import CHANNELS, DAY, GeneratorConfig
from revloop.generator.draws import (
    FloatArray,
    IntArray,
    choice,
    grouped_choice,
    lognormal_mean_one,
    weights,
)

DATED_CHANNELS = frozenset({"webinar", "events"})  # a campaign happens on given days


@dataclass
class Campaigns:
    """Every campaign; those of one (channel, quarter) are contiguous, in channel order."""

    channel: IntArray
    quarter: IntArray
    theme: list[str]
    start: IntArray  # first second
    end: IntArray  # first second after the last day
    quality: FloatArray  # causal quality factor (mean 1 within the world)
    reach: FloatArray  # relative share of its channel's touches in its quarter
    group_start: IntArray  # (channel, quarter) group g → first campaign index
    cum_reach: FloatArray
    dated: dict[int, tuple[IntArray, IntArray]]  # channel → (sorted event times, campaign)

    @property
    def n(self) -> int:
        return len(self.channel)

    def group_of(self, channel: IntArray, quarter: IntArray, n_quarters: int) -> IntArray:
        out: IntArray = channel * n_quarters + quarter
        return out


def build_campaigns(cfg: GeneratorConfig, rng: np.random.Generator) -> Campaigns:
    """Campaigns of every channel that has them, quarter by quarter."""
    quarters = cfg.quarters
    nq = len(quarters)
    channel: list[int] = []
    quarter: list[int] = []
    theme: list[str] = []
    start: list[int] = []
    end: list[int] = []
    group_start = np.zeros(len(CHANNELS) * nq + 1, dtype=np.int64)
    for c, ch in enumerate(CHANNELS):
        themes = cat.CAMPAIGN_THEMES.get(ch.name, ())
        for q, (qs, qe) in enumerate(quarters):
            group_start[c * nq + q] = len(channel)
            k = ch.campaigns_per_quarter * (cfg.campaign_multiplier if ch.campaigns_per_quarter
                                            else 0)
            for j in range(k):
                channel.append(c)
                quarter.append(q)
                theme.append(themes[(q + j) % len(themes)])
                if ch.name in DATED_CHANNELS:
                    # Spread over the quarter: the j-th of k sits in the j-th slice.
                    slice_days = (qe - qs) // DAY // k
                    day = qs // DAY + j * slice_days + int(rng.integers(3, max(4, slice_days)))
                    length = 1 if ch.name == "webinar" else int(rng.integers(1, 4))
                    start.append(day * DAY)
                    end.append((day + length) * DAY)
                else:
                    start.append(qs)
                    end.append(qe)
    group_start[-1] = len(channel)
    # Empty groups point at the next campaign; they are never drawn from.
    for g in range(len(group_start) - 2, -1, -1):
        if group_start[g] > group_start[g + 1]:
            group_start[g] = group_start[g + 1]
    n = len(channel)
    quality = lognormal_mean_one(rng, 0.5, n)
    reach = lognormal_mean_one(rng, 0.7, n)
    ch_arr = np.array(channel, dtype=np.int64)
    st = np.array(start, dtype=np.int64)
    dated: dict[int, tuple[IntArray, IntArray]] = {}
    for c, ch in enumerate(CHANNELS):
        if ch.name in DATED_CHANNELS:
            idx = np.flatnonzero(ch_arr == c)
            order = np.argsort(st[idx], kind="stable")
            # the time a participant turns up: 15:00 on the first day
            dated[c] = (st[idx][order] + 15 * 3600, idx[order])
    return Campaigns(
        channel=ch_arr, quarter=np.array(quarter, dtype=np.int64), theme=theme, start=st,
        end=np.array(end, dtype=np.int64), quality=quality, reach=reach,
        group_start=group_start, cum_reach=np.cumsum(reach), dated=dated,
    )


def assign_campaigns(rng: np.random.Generator, cfg: GeneratorConfig, campaigns: Campaigns,
                     channel: IntArray, t: IntArray) -> tuple[IntArray, IntArray]:
    """A campaign for each touch of a channel that runs campaigns (``-1`` otherwise), and the
    touch time, moved to the campaign's day for webinars and events (the next one after the
    touch, or the last one when none follows)."""
    n = len(t)
    camp = np.full(n, -1, dtype=np.int64)
    t = t.copy()
    quarter_starts = np.array([q[0] for q in cfg.quarters])
    nq = len(quarter_starts)
    quarter = np.clip(np.searchsorted(quarter_starts, t, side="right") - 1, 0, nq - 1)
    group = campaigns.group_of(channel, quarter, nq)
    has = campaigns.group_start[group + 1] > campaigns.group_start[group]
    for c, (times, idx) in campaigns.dated.items():
        rows = np.flatnonzero(channel == c)
        if len(rows) == 0 or len(times) == 0:
            continue
        pos = np.minimum(np.searchsorted(times, t[rows]), len(times) - 1)
        camp[rows] = idx[pos]
        t[rows] = times[pos] + rng.integers(0, 3 * 3600, len(rows))
        has[rows] = False
    rows = np.flatnonzero(has)
    if len(rows):
        camp[rows] = grouped_choice(rng, group[rows], campaigns.group_start,
                                    campaigns.cum_reach)
    return camp, t


@dataclass
class Content:
    """The content library, sorted by publication time."""

    topic: IntArray
    fmt: IntArray
    stage: IntArray
    persona: IntArray
    published: IntArray
    popularity: FloatArray
    cum_popularity: FloatArray
    quality: FloatArray

    @property
    def n(self) -> int:
        return len(self.topic)


def build_content(cfg: GeneratorConfig, rng: np.random.Generator) -> Content:
    """A library whose popularity is heavy-tailed (Zipf-like over a random ranking)."""
    n = max(40, round(350 * np.sqrt(cfg.scale)))
    published = np.sort(cfg.t0 - 540 * DAY
                        + (rng.random(n) * (cfg.days + 540 - 14) * DAY).astype(np.int64))
    rank = rng.permutation(n) + 1
    popularity = 1.0 / rank.astype(np.float64) ** 1.1
    return Content(
        topic=rng.integers(0, len(cat.TOPICS), n),
        fmt=choice(rng, weights([f[1] for f in cat.CONTENT_FORMATS]), n),
        stage=rng.integers(0, len(cat.FUNNEL_STAGES), n),
        persona=rng.integers(0, len(cat.PERSONAS), n),
        published=published, popularity=popularity, cum_popularity=np.cumsum(popularity),
        quality=lognormal_mean_one(rng, 0.45, n),
    )


def assign_content(rng: np.random.Generator, content: Content, t: IntArray) -> IntArray:
    """A piece of content for each touch at time ``t``, by popularity among those published
    by then (``-1`` if nothing was published yet)."""
    available = np.searchsorted(content.published, t, side="right")
    top = np.where(available > 0, content.cum_popularity[np.maximum(available - 1, 0)], 0.0)
    target = rng.random(len(t)) * top
    idx = np.minimum(np.searchsorted(content.cum_popularity, target, side="right"),
                     np.maximum(available - 1, 0))
    out: IntArray = np.where(available > 0, idx, -1)
    return out


def quarter_label(cfg: GeneratorConfig, q: int) -> str:
    """``2024-Q3`` for the ``q``-th quarter of the history."""
    start = dt.datetime.fromtimestamp(cfg.quarters[q][0], dt.UTC)
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
