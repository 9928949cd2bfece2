"""What the generator is asked for, and the causal parameters of the world it simulates.

Every number that shapes the company lives here, so ``docs/generator.md`` can quote them and a
test can change one and see the effect. Times are integer seconds since the Unix epoch (naive
UTC) inside the generator; they become timestamps only when tables are written.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from revloop.errors import ConfigError

DAY = 86_400


@dataclass(frozen=True)
class ChannelParams:
    """How one channel reaches people and what it causes.

    ``hazard`` is the channel's causal effect on opportunity creation: every touch an
    in-market account receives through the channel adds this much to the cumulative hazard of
    the account's buying window (times the campaign's and content's quality factors).
    ``win_effect`` adds to the log-odds of winning per touch in the window (at most three
    touches count). The mixes say which share of touches the channel gets out of market
    (``background``), in the anonymous traffic from outside the target accounts
    (``anonymous``), and while the account is in market (``in_market``: early, middle and
    late in the window). Broad-reach channels mostly bring anonymous traffic; the
    channels buyers use to evaluate dominate in-market journeys.
    """

    name: str
    background: float  # share of target-account people's out-of-market activity
    anonymous: float  # share of the anonymous traffic from outside the target accounts
    in_market: tuple[float, float, float]  # early, middle, late in a buying window
    hazard: float
    win_effect: float
    touch_types: tuple[tuple[str, float], ...]
    campaigns_per_quarter: int  # 0: the channel has no campaigns (organic, direct, referral)
    cost_per_touch: float  # average spend per touch, to size campaign budgets


CHANNELS: tuple[ChannelParams, ...] = (
    ChannelParams("paid_search", 0.10, 0.12, (0.04, 0.10, 0.15), 0.010, 0.00,
                  (("ad_click", 0.6), ("visit", 0.4)), 4, 9.0),
    ChannelParams("paid_social", 0.08, 0.18, (0.04, 0.02, 0.01), 0.006, 0.00,
                  (("ad_click", 0.7), ("visit", 0.3)), 3, 6.0),
    ChannelParams("display", 0.05, 0.25, (0.02, 0.01, 0.00), 0.002, 0.00,
                  (("ad_click", 1.0),), 2, 4.0),
    ChannelParams("email", 0.00, 0.00, (0.12, 0.20, 0.12), 0.020, 0.00,
                  (("email_open", 0.8), ("email_click", 0.2)), 4, 0.15),
    ChannelParams("webinar", 0.02, 0.00, (0.09, 0.09, 0.03), 0.045, 0.10,
                  (("webinar", 1.0),), 3, 35.0),
    ChannelParams("events", 0.01, 0.00, (0.08, 0.06, 0.02), 0.060, 0.15,
                  (("event", 0.8), ("meeting", 0.2)), 2, 160.0),
    ChannelParams("content_syndication", 0.04, 0.00, (0.12, 0.06, 0.01), 0.030, 0.00,
                  (("content_view", 0.7), ("form_fill", 0.3)), 2, 25.0),
    ChannelParams("partner", 0.02, 0.00, (0.04, 0.06, 0.05), 0.050, 0.10,
                  (("visit", 0.5), ("meeting", 0.3), ("form_fill", 0.2)), 1, 60.0),
    ChannelParams("outbound_sales", 0.08, 0.00, (0.08, 0.07, 0.04), 0.025, 0.00,
                  (("email_open", 0.6), ("call", 0.25), ("email_click", 0.15)), 3, 3.0),
    ChannelParams("organic_search", 0.30, 0.25, (0.22, 0.18, 0.10), 0.025, 0.00,
                  (("visit", 0.6), ("content_view", 0.4)), 0, 0.0),
    ChannelParams("organic_social", 0.08, 0.10, (0.03, 0.01, 0.00), 0.004, 0.00,
                  (("visit", 1.0),), 0, 0.0),
    ChannelParams("direct", 0.15, 0.05, (0.03, 0.08, 0.20), 0.000, 0.00,
                  (("visit", 1.0),), 0, 0.0),
    ChannelParams("referral", 0.07, 0.05, (0.09, 0.10, 0.12), 0.030, 0.00,
                  (("visit", 0.6), ("content_view", 0.4)), 0, 0.0),
)
CHANNEL_INDEX: dict[str, int] = {c.name: i for i, c in enumerate(CHANNELS)}
SALES_CHANNEL = "sales"  # reps' meetings and calls during deals (no causal effect here)

# Touch types that happen on the web (and so may be anonymous before identification).
WEB_TOUCHES = frozenset({"visit", "content_view", "ad_click", "form_fill", "email_click"})
# Touch types that identify a person (they give their e-mail or are badge-scanned).
IDENTIFYING_TOUCHES = frozenset({"form_fill", "webinar", "event"})
# Touch types that carry a content asset.
CONTENT_TOUCHES = frozenset({"content_view", "form_fill", "webinar", "email_click"})
# Points per touch type in the arbitrary MQL rule the simulated marketing team uses.
MQL_POINTS: dict[str, float] = {
    "visit": 2, "content_view": 5, "ad_click": 2, "email_open": 1, "email_click": 4,
    "form_fill": 15, "webinar": 15, "event": 15, "meeting": 10, "call": 3,
}


@dataclass(frozen=True)
class WorldParams:
    """The behavioural and causal constants of the simulated market (see docs/generator.md)."""

    # Market
    contacts_per_account: float = 11.5  # mean buying-group size (1–12)
    existing_customer_share: float = 0.05
    fit_levels: tuple[str, ...] = ("high", "medium", "low")
    # In-market windows: expected count over the two years by fit level, length in days.
    windows_per_two_years: tuple[float, float, float] = (1.9, 0.95, 0.4)
    window_days_mean: float = 100.0
    window_days_shape: float = 3.0
    # Opportunity creation: baseline hazard of a window (demand no marketing caused) by fit.
    baseline_hazard: tuple[float, float, float] = (0.40, 0.25, 0.10)
    # Share of buying-group members active in a window, and their touch rate per day.
    window_participation: float = 0.55
    in_market_touches_per_day: float = 0.045
    # Out-of-market activity per person per day: web visits, ads, social (known or not) …
    background_touches_per_day: float = 0.006
    # … and newsletter opens and clicks (known people only).
    newsletter_touches_per_day: float = 0.018
    # Anonymous web traffic from outside the target accounts, per account of the market.
    visitors_per_account: float = 50.0
    visitor_touches_mean: float = 3.0
    anonymous_visitors_per_account: float = 1.0  # people never identified (per account)
    noise_leads_per_account: float = 0.4  # students, job seekers, competitors
    crm_base_share: float = 0.72  # people already in the CRM when the history starts
    # Weekday rhythm: relative weight of a Saturday/Sunday touch.
    weekend_weight: float = 0.3
    # Win: baseline win probability by fit level; renewal and expansion win rates.
    win_rate: tuple[float, float, float] = (0.30, 0.19, 0.09)
    renewal_win_rate: float = 0.86
    expansion_win_rate: float = 0.55
    expansions_per_customer_year: float = 0.15
    # Deal size: annual contract value ≈ acv_base × (employees / 200)^acv_size_power × LN(σ).
    acv_base: float = 18_000.0
    acv_size_power: float = 0.45
    acv_sigma: float = 0.6
    # Sales cycle, days: log-normal medians for won and lost deals.
    cycle_won_median: float = 75.0
    cycle_lost_median: float = 45.0
    cycle_sigma: float = 0.5
    # The simulated marketing team's MQL rule: points within ``mql_window_days``.
    mql_threshold: float = 12.0
    mql_window_days: int = 90
    sal_accept_in_market: float = 0.8
    sal_accept_out_of_market: float = 0.45
    follow_up_sla_hours: float = 24.0
    follow_up_breach_share: float = 0.15
    stalled_share: float = 0.1  # accepted leads nobody recycles or converts
    # Channels whose touches happen but cause nothing: the world the truth compares with.
    removed_channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneratorConfig:
    """A request for one company: its size (scale factor), seed and calendar."""

    scale: float = 0.01
    seed: int = 1
    start: dt.date = dt.date(2024, 7, 1)
    days: int = 730
    params: WorldParams = field(default_factory=WorldParams)

    def __post_init__(self) -> None:
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise ConfigError(f"--scale must be a positive number, got {self.scale}")
        if self.scale > 100:
            raise ConfigError(f"--scale {self.scale} is over the supported maximum of 100")
        if self.seed < 0:
            raise ConfigError(f"--seed must be zero or positive, got {self.seed}")
        if not 90 <= self.days <= 3650:
            raise ConfigError(f"days must be between 90 and 3650, got {self.days}")
        unknown = set(self.params.removed_channels) - set(CHANNEL_INDEX)
        if unknown:
            raise ConfigError(f"unknown channel(s) {', '.join(sorted(unknown))}; channels: "
                              f"{', '.join(CHANNEL_INDEX)}")

    @property
    def n_accounts(self) -> int:
        return max(20, round(30_000 * self.scale))

    @property
    def t0(self) -> int:
        """First second of the history."""
        return int(dt.datetime(self.start.year, self.start.month, self.start.day,
                               tzinfo=dt.UTC).timestamp())

    @property
    def t1(self) -> int:
        """First second after the history."""
        return self.t0 + self.days * DAY

    @property
    def quarters(self) -> list[tuple[int, int]]:
        """Calendar quarters overlapping the history, as (start, end) seconds."""
        out: list[tuple[int, int]] = []
        year, q = self.start.year, (self.start.month - 1) // 3
        while True:
            first = dt.datetime(year, 3 * q + 1, 1, tzinfo=dt.UTC)
            q += 1
            if q == 4:
                year, q = year + 1, 0
            nxt = dt.datetime(year, 3 * q + 1, 1, tzinfo=dt.UTC)
            if int(first.timestamp()) >= self.t1:
                return out
            out.append((int(first.timestamp()), int(nxt.timestamp())))

    @property
    def campaign_multiplier(self) -> int:
        """More campaigns for bigger companies, sub-linearly (a 10× company ≈ 3× campaigns)."""
        return max(1, round(math.sqrt(self.scale)))
