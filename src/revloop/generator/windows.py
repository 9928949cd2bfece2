"""When accounts are in market (their true buying windows) and the intent surges around them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revloop.generator import catalog as cat
from revloop.generator.config import DAY, GeneratorConfig
from revloop.generator.draws import FloatArray, IntArray
from revloop.generator.market import Accounts

MAX_WINDOWS = 4
LEAD_IN_DAYS = 14  # research starts a little before the window opens
GAP_DAYS = 45  # at least this long between two windows of one account


@dataclass
class Windows:
    """In-market windows of a block's accounts, sorted by (account, start)."""

    account: IntArray
    rank: IntArray  # 0 for the account's first window, …
    start: IntArray
    end: IntArray
    topics: IntArray  # (n, 3) topic indices, -1 where fewer than three

    @property
    def n(self) -> int:
        return len(self.account)


def build_windows(cfg: GeneratorConfig, rng: np.random.Generator, accounts: Accounts,
                  first: int, last: int) -> Windows:
    """Buying windows of the non-customer accounts ``first`` to ``last - 1``.

    The number of windows is Poisson with a rate by fit level; windows are laid one after
    another with random gaps and gamma-distributed lengths, and those opening too late to be
    seen are dropped.
    """
    p = cfg.params
    acc = np.arange(first, last, dtype=np.int64)
    acc = acc[~accounts.is_customer[first:last]]
    rate = np.array(p.windows_per_two_years)[accounts.fit[acc]] * cfg.days / 730.0
    count = np.minimum(rng.poisson(rate), MAX_WINDOWS)
    opens_from = cfg.t0 + LEAD_IN_DAYS * DAY
    opens_until = cfg.t1 - 30 * DAY
    span = opens_until - opens_from
    rows_acc: list[IntArray] = []
    rows_start: list[IntArray] = []
    rows_end: list[IntArray] = []
    # Candidate openings, sorted per account, then pushed apart so windows never overlap.
    raw = np.sort(opens_from + (rng.random((len(acc), MAX_WINDOWS)) * span).astype(np.int64),
                  axis=1)
    scale = p.window_days_mean / p.window_days_shape
    length = np.clip(rng.gamma(p.window_days_shape, scale, (len(acc), MAX_WINDOWS)), 30, 240)
    previous_end = np.full(len(acc), np.iinfo(np.int64).min // 2, dtype=np.int64)
    for k in range(MAX_WINDOWS):
        start = np.maximum(raw[:, k], previous_end + GAP_DAYS * DAY)
        end = start + (length[:, k] * DAY).astype(np.int64)
        keep = (k < count) & (start < opens_until)
        rows_acc.append(acc[keep])
        rows_start.append(start[keep])
        rows_end.append(end[keep])
        previous_end = np.where(keep, end, previous_end)
    account = np.concatenate(rows_acc)
    start = np.concatenate(rows_start)
    end = np.concatenate(rows_end)
    order = np.lexsort((start, account))
    n = len(order)
    n_topics = 1 + rng.binomial(2, 0.45, n)
    topics = np.argsort(rng.random((n, len(cat.TOPICS))), axis=1)[:, :3].astype(np.int64)
    topics[np.arange(3)[None, :] >= n_topics[:, None]] = -1
    account, start, end = account[order], start[order], end[order]
    rank = np.zeros(n, dtype=np.int64)
    if n:  # position among the account's kept windows
        first_of = np.r_[True, account[1:] != account[:-1]]
        rank = np.arange(n) - np.maximum.accumulate(np.where(first_of, np.arange(n), 0))
    return Windows(account=account, rank=rank, start=start, end=end, topics=topics)


@dataclass
class Intent:
    """Weekly third-party intent signals: (account, topic, Monday, score)."""

    account: IntArray
    topic: IntArray
    day: IntArray  # days since the epoch
    score: FloatArray


def build_intent(cfg: GeneratorConfig, rng: np.random.Generator, windows: Windows,
                 first: int, last: int) -> Intent:
    """Surges on the window's topics from a few weeks before it opens until it closes, plus
    false surges on random accounts and topics (research that leads nowhere)."""
    parts_acc: list[IntArray] = []
    parts_topic: list[IntArray] = []
    parts_start: list[IntArray] = []
    parts_end: list[IntArray] = []
    parts_strength: list[FloatArray] = []
    for j in range(3):
        has = windows.topics[:, j] >= 0
        lead = (rng.uniform(14, 42, int(has.sum())) * DAY).astype(np.int64)
        parts_acc.append(windows.account[has])
        parts_topic.append(windows.topics[has, j])
        parts_start.append(windows.start[has] - lead)
        parts_end.append(windows.end[has])
        parts_strength.append(rng.uniform(65, 95, int(has.sum())))
    n_acc = last - first
    n_false = rng.poisson(0.6 * cfg.days / 730.0, n_acc)
    false_acc = np.repeat(np.arange(first, last, dtype=np.int64), n_false)
    m = len(false_acc)
    false_start = cfg.t0 + (rng.random(m) * cfg.days * DAY).astype(np.int64)
    parts_acc.append(false_acc)
    parts_topic.append(rng.integers(0, len(cat.TOPICS), m))
    parts_start.append(false_start)
    parts_end.append(false_start + (rng.uniform(14, 42, m) * DAY).astype(np.int64))
    parts_strength.append(rng.uniform(45, 80, m))
    acc = np.concatenate(parts_acc)
    topic = np.concatenate(parts_topic)
    s = np.maximum(np.concatenate(parts_start), cfg.t0)
    e = np.minimum(np.concatenate(parts_end), cfg.t1)
    strength = np.concatenate(parts_strength)
    # One row per Monday inside [s, e).
    first_monday = s // DAY + (7 - (s // DAY + 3) % 7) % 7
    weeks = np.maximum(0, (e // DAY - first_monday + 6) // 7)
    idx = np.repeat(np.arange(len(acc)), weeks)
    offset = np.arange(len(idx)) - np.repeat(np.r_[0, np.cumsum(weeks)[:-1]], weeks)
    day = first_monday[idx] + 7 * offset
    score = np.clip(strength[idx] + rng.normal(0, 6, len(idx)), 1, 100).round(1)
    # One signal per (account, topic, week): the strongest surge wins.
    key = (acc[idx] * len(cat.TOPICS) + topic[idx]) * 100_000 + day
    order = np.lexsort((-score, key))
    keep = np.r_[True, key[order][1:] != key[order][:-1]] if len(order) else order.astype(bool)
    sel = order[keep]
    return Intent(account=acc[idx][sel], topic=topic[idx][sel], day=day[sel], score=score[sel])
