"""A synthetic B2B company with a planted buying process, built in code (seeded, vectorised).

Accounts have a hidden fit (industry, size, CRM technology); fitter accounts have more
in-market windows. Inside a window the buying group touches the company more and more
(form fills, webinars, pricing visits, meetings), third-party intent surges on two or three
topics, and the window usually ends in a new opportunity. Outside windows there is only
background noise (e-mail opens, blog visits, low intent). Truth tables say which windows and
fit levels were planted. Sizes scale from a unit-test world to the SF1 benchmark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START = dt.datetime(2023, 1, 1)
INDUSTRIES = np.array(["software", "financial_services", "healthcare", "manufacturing",
                       "retail", "education"])
COUNTRIES = np.array(["US", "DE", "GB", "FR", "ES", "BR"])
TECHS = np.array(["salesforce", "hubspot", "marketo", "aws", "azure", "gcp", "snowflake",
                  "tableau", "slack", "zendesk", "sap", "oracle"])
TECH_CATEGORY = np.array(["crm", "crm", "marketing_automation", "cloud", "cloud", "cloud",
                          "data", "analytics", "collaboration", "support", "erp", "erp"])
SENIORITY = np.array(["c_level", "vp", "director", "manager", "staff"])
FUNCTIONS = np.array(["marketing", "sales", "it", "finance", "operations", "hr"])
TOPICS = np.array(["revenue operations", "lead scoring", "marketing attribution",
                   "sales forecasting", "crm migration", "data warehouse", "cloud security",
                   "hr software", "payroll", "erp upgrade"])
BUYING_TOPICS = 5  # the first five topics are what this company sells
BG_TYPES = np.array(["email_open", "visit", "content_view", "email_click"])
BG_P = np.array([0.5, 0.3, 0.12, 0.08])
WIN_TYPES = np.array(["visit", "content_view", "form_fill", "webinar", "email_click",
                      "meeting", "event"])
WIN_P = np.array([0.32, 0.22, 0.12, 0.10, 0.12, 0.07, 0.05])
CHANNEL_OF = {"email_open": "email", "email_click": "email", "visit": "organic_search",
              "content_view": "content_syndication", "form_fill": "paid_search",
              "webinar": "webinar", "meeting": "sales", "event": "events"}


@dataclass(frozen=True)
class WorldSize:
    """How big the world is."""

    accounts: int = 400
    contacts_per_account: float = 8.0
    days: int = 730
    background_touches_per_contact_month: float = 0.8
    window_touches_per_day: float = 1.6
    seed: int = 7


@dataclass
class World:
    """Canonical tables and truth tables of a generated world."""

    tables: dict[str, pa.Table]
    truth: dict[str, pa.Table]
    start: dt.datetime
    end: dt.datetime

    def write(self, folder: Path) -> list[Path]:
        """Write the canonical tables as ``<entity>.parquet``; return the paths."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, table in self.tables.items():
            path = folder / f"{name}.parquet"
            pq.write_table(table, path)
            paths.append(path)
        return paths


def _ts(seconds: np.ndarray) -> pa.Array:
    base = np.datetime64(START, "us")
    return pa.array(base + (seconds * 1e6).astype("timedelta64[us]"), pa.timestamp("us"))


def _date(seconds: np.ndarray) -> pa.Array:
    base = np.datetime64(START.date(), "D")
    return pa.array(base + (seconds // 86400).astype("timedelta64[D]"), pa.date32())


def _ids(prefix: str, n: int, start: int = 0) -> np.ndarray:
    return np.char.add(prefix, np.arange(start, start + n).astype(str))


def _channels(types: np.ndarray) -> np.ndarray:
    kinds, inverse = np.unique(types, return_inverse=True)
    return np.array([CHANNEL_OF[k] for k in kinds], dtype=object)[inverse].astype(str)


def build_world(size: WorldSize | None = None) -> World:
    """Generate the world (deterministic for a given size and seed)."""
    s = size or WorldSize()
    rng = np.random.default_rng(s.seed)
    day = 86400.0
    span = s.days * day
    n_acc = s.accounts

    # ---- accounts and fit
    industry = rng.choice(len(INDUSTRIES), n_acc, p=[0.25, 0.15, 0.15, 0.2, 0.15, 0.1])
    employees = np.round(np.exp(rng.normal(5.8, 1.3, n_acc))).astype(np.int64) + 5
    country = rng.choice(len(COUNTRIES), n_acc)
    has_crm = rng.random(n_acc) < 0.45
    fit_score = (np.isin(industry, [0, 1, 2]) * 1.0 + (employees >= 200) * 0.8
                 + has_crm * 0.7 + rng.normal(0, 0.5, n_acc))
    fit_level = np.where(fit_score >= 1.6, 2, np.where(fit_score >= 0.7, 1, 0))  # high/med/low
    tier = np.where(rng.random(n_acc) < 0.15, "strategic", "standard")
    account_ids = _ids("acc-", n_acc)
    domains = np.char.add(np.char.add("company", np.arange(n_acc).astype(str)), ".com")
    acc_created = -rng.random(n_acc) * 365 * day  # created up to a year before the start
    late = rng.random(n_acc) < 0.1  # a few accounts appear during the period
    acc_created[late] = rng.random(late.sum()) * span * 0.8
    accounts = pa.table({
        "account_id": account_ids, "name": np.char.add("Company ", np.arange(n_acc).astype(str)),
        "domain": domains, "industry": INDUSTRIES[industry], "employees": employees,
        "annual_revenue": employees.astype(np.float64) * rng.uniform(8e4, 2.5e5, n_acc),
        "country": COUNTRIES[country], "created_at": _ts(acc_created),
        "tier": tier,
    })

    # ---- technographics
    tech_rows_acc, tech_rows_tech = [], []
    for t in range(len(TECHS)):
        p = 0.25 if t > 1 else 0.0
        mask = rng.random(n_acc) < p
        if t <= 1:  # CRM technologies follow has_crm
            mask = has_crm & (rng.random(n_acc) < 0.6) if t == 0 else has_crm & ~(
                rng.random(n_acc) < 0.6)
        tech_rows_acc.append(np.flatnonzero(mask))
        tech_rows_tech.append(np.full(mask.sum(), t))
    t_acc = np.concatenate(tech_rows_acc)
    t_tech = np.concatenate(tech_rows_tech)
    t_first = np.where(rng.random(len(t_acc)) < 0.85, -rng.random(len(t_acc)) * 400 * day,
                       rng.random(len(t_acc)) * span)
    technographics = pa.table({
        "account_id": account_ids[t_acc], "technology": TECHS[t_tech],
        "category": TECH_CATEGORY[t_tech], "first_seen": _date(np.maximum(t_first, -900 * day)),
    })

    # ---- contacts
    n_con_acc = 2 + rng.poisson(max(s.contacts_per_account - 2, 0.1), n_acc)
    c_acc = np.repeat(np.arange(n_acc), n_con_acc)
    n_con = len(c_acc)
    seniority = rng.choice(len(SENIORITY), n_con, p=[0.05, 0.1, 0.2, 0.3, 0.35])
    function = rng.choice(len(FUNCTIONS), n_con)
    contact_ids = _ids("c-", n_con)
    c_created = np.maximum(acc_created[c_acc], -rng.random(n_con) * 300 * day) + \
        rng.random(n_con) * span * 0.6 * (rng.random(n_con) < 0.5)
    c_created = np.minimum(c_created, span - day)
    student = rng.random(n_con) < 0.02
    emails = np.char.add(np.char.add(np.char.add("p", np.arange(n_con).astype(str)), "@"),
                         np.where(student, "uni.edu", domains[c_acc]))
    contacts = pa.table({
        "contact_id": contact_ids, "record_type": np.where(rng.random(n_con) < 0.5, "lead",
                                                           "contact"),
        "account_id": account_ids[c_acc], "email": emails,
        "title": np.char.add(np.char.add(SENIORITY[seniority], " of "), FUNCTIONS[function]),
        "seniority": SENIORITY[seniority], "function": FUNCTIONS[function],
        "country": COUNTRIES[country[c_acc]], "created_at": _ts(c_created),
        "is_unsubscribed": rng.random(n_con) < 0.05,
        "lead_source": rng.choice(np.array(["web", "event", "partner", "list"]), n_con),
    })
    first_contact = np.r_[0, np.cumsum(n_con_acc)[:-1]]

    # ---- in-market windows (non-overlapping per account)
    rate = np.array([0.35, 0.9, 1.6])[fit_level] * s.days / 730
    n_win = np.minimum(rng.poisson(rate), 3)
    w_acc = np.repeat(np.arange(n_acc), n_win)
    slot = np.concatenate([np.arange(k) for k in n_win]) if len(w_acc) else np.array([], int)
    slots = np.maximum(n_win[w_acc], 1)
    w_len = rng.uniform(60, 150, len(w_acc)) * day
    slot_len = span / slots
    w_start = slot * slot_len + rng.random(len(w_acc)) * np.maximum(slot_len - w_len, day)
    w_start = np.maximum(w_start, acc_created[w_acc])
    w_end = np.minimum(w_start + w_len, span)
    keep = w_end - w_start > 20 * day
    w_acc, w_start, w_end = w_acc[keep], w_start[keep], w_end[keep]
    w_len = w_end - w_start
    w_topics = np.stack([rng.choice(BUYING_TOPICS, 3, replace=False) for _ in range(len(w_acc))]
                        ) if len(w_acc) else np.zeros((0, 3), int)

    # ---- touches: background
    bg_n = rng.poisson(s.background_touches_per_contact_month * s.days / 30.0, n_con)
    b_con = np.repeat(np.arange(n_con), bg_n)
    b_time = rng.random(len(b_con)) * span
    b_time = np.maximum(b_time, c_created[b_con])  # nobody touches before they exist
    b_type = BG_TYPES[rng.choice(len(BG_TYPES), len(b_con), p=BG_P)]
    # ---- touches: in-window, more and more towards the end, by the buying group
    w_n = rng.poisson(s.window_touches_per_day * w_len / day)
    iw = np.repeat(np.arange(len(w_acc)), w_n)
    frac = np.sqrt(rng.random(len(iw)))  # density rising towards the end of the window
    i_time = w_start[iw] + frac * w_len[iw]
    group = np.minimum(n_con_acc[w_acc[iw]], 2 + rng.poisson(2, len(iw)))
    i_con = first_contact[w_acc[iw]] + (rng.random(len(iw)) * group).astype(np.int64)
    i_type = WIN_TYPES[rng.choice(len(WIN_TYPES), len(iw), p=WIN_P)]
    con = np.r_[b_con, i_con]
    when = np.r_[b_time, i_time]
    ttype = np.r_[b_type, i_type]
    order = np.argsort(when, kind="stable")
    con, when, ttype = con[order], when[order], ttype[order]
    n_touch = len(con)
    url = np.full(n_touch, None, dtype=object)
    visit = ttype == "visit"
    in_window = order >= len(b_con)
    pricing = visit & (rng.random(n_touch) < np.where(in_window, 0.5, 0.03))
    url[visit] = "https://vendor.com/blog/post"
    url[pricing] = "https://vendor.com/pricing"
    url[ttype == "form_fill"] = "https://vendor.com/demo"
    touchpoints = pa.table({
        "touchpoint_id": _ids("t-", n_touch), "occurred_at": _ts(when),
        "contact_id": contact_ids[con], "touch_type": ttype,
        "channel": _channels(ttype),
        "url": pa.array(url, pa.string()),
    })

    # ---- intent: background noise and surges in windows
    ib_n = rng.poisson(s.days / 25.0, n_acc)
    ib_acc = np.repeat(np.arange(n_acc), ib_n)
    ib_day = (rng.random(len(ib_acc)) * s.days).astype(np.int64)
    ib_topic = rng.choice(len(TOPICS), len(ib_acc))
    ib_score = rng.uniform(10, 45, len(ib_acc))
    iw_n = rng.poisson(0.5 * w_len / day)
    iwi = np.repeat(np.arange(len(w_acc)), iw_n)
    iw_frac = rng.random(len(iwi))
    iw_day = ((w_start[iwi] - 21 * day + iw_frac * (w_len[iwi] + 14 * day)) / day).astype(
        np.int64)
    iw_topic = w_topics[iwi, rng.integers(0, 3, len(iwi))] if len(iwi) else np.array([], int)
    iw_score = np.clip(50 + 45 * iw_frac + rng.normal(0, 8, len(iwi)), 0, 100)
    i_acc = np.r_[ib_acc, w_acc[iwi]]
    i_day = np.clip(np.r_[ib_day, iw_day], 0, s.days - 1)
    i_topic = np.r_[ib_topic, iw_topic]
    i_score = np.r_[ib_score, iw_score]
    # one signal per (account, topic, day): keep the strongest
    key = (i_acc * len(TOPICS) + i_topic) * (s.days + 1) + i_day
    order = np.lexsort((-i_score, key))
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    sel = order[first]
    intent = pa.table({
        "account_id": account_ids[i_acc[sel]], "topic": TOPICS[i_topic[sel]],
        "day": _date(i_day[sel] * day), "score": np.round(i_score[sel], 1),
    })

    # ---- opportunities: most windows end in one; a few appear from nowhere
    converts = rng.random(len(w_acc)) < np.array([0.45, 0.6, 0.75])[fit_level[w_acc]]
    o_acc = w_acc[converts]
    o_created = w_start[converts] + rng.uniform(0.55, 1.0, converts.sum()) * w_len[converts]
    noise_n = max(1, int(0.08 * len(o_acc)))
    o_acc = np.r_[o_acc, rng.integers(0, n_acc, noise_n)]
    o_created = np.r_[o_created, rng.random(noise_n) * span]
    o_created = np.minimum(np.maximum(o_created, acc_created[o_acc] + day), span - day)
    o_close = o_created + rng.uniform(30, 120, len(o_acc)) * day
    closed = o_close < span
    won = closed & (rng.random(len(o_acc)) < np.array([0.2, 0.3, 0.45])[fit_level[o_acc]])
    n_opp = len(o_acc)
    opportunities = pa.table({
        "opportunity_id": _ids("o-", n_opp), "account_id": account_ids[o_acc],
        "amount": np.round(rng.uniform(5e3, 1e5, n_opp), 0),
        "stage": np.where(won, "closed_won", np.where(closed, "closed_lost", "discovery")),
        "opportunity_type": np.full(n_opp, "new"),
        "created_at": _ts(o_created), "close_date": _date(o_close),
        "is_closed": closed, "is_won": won,
    })
    truth = {
        "truth_in_market_windows": pa.table({
            "account_id": account_ids[w_acc], "window_start": _ts(w_start),
            "window_end": _ts(w_end), "converted": converts,
        }),
        "truth_accounts": pa.table({
            "account_id": account_ids,
            "icp_fit": np.array(["low", "medium", "high"])[fit_level],
        }),
    }
    tables = {"accounts": accounts, "contacts": contacts, "technographics": technographics,
              "touchpoints": touchpoints, "intent_signals": intent,
              "opportunities": opportunities}
    return World(tables, truth, START, START + dt.timedelta(days=s.days))
