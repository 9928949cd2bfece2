"""The market: accounts with firmographics, technographics and a hidden ICP fit; the revenue
team (territories, reps, SDRs, teams); and each account's buying group."""

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
    weights,
)

FIT_SHARES = (0.2, 0.35, 0.45)  # high, medium, low (by quantile of the fit score)
CUSTOMER_PROPENSITY = (2.4, 0.9, 0.25)  # relative chance of being a customer at the start


@dataclass
class Accounts:
    """All accounts, one array element per account (index = account number)."""

    industry: IntArray
    country: IntArray
    employees: IntArray
    annual_revenue: FloatArray
    segment: IntArray
    fit_score: FloatArray
    fit: IntArray  # 0 high, 1 medium, 2 low
    created_at: IntArray
    owner: IntArray  # user index of the account executive
    is_customer: BoolArray  # a customer when the history starts
    contract_start: IntArray  # for customers at the start
    acv: FloatArray  # annual contract value the account would buy
    tech: IntArray  # (account, technology) pairs: account index
    tech_id: IntArray  # … and technology index
    tech_first_seen: IntArray
    name_word1: IntArray
    name_word2: IntArray
    name_suffix: IntArray

    @property
    def n(self) -> int:
        return len(self.industry)

    @property
    def region(self) -> IntArray:
        region_of_country = np.array([cat.REGIONS.index(c[1]) for c in cat.COUNTRIES])
        out: IntArray = region_of_country[self.country]
        return out


@dataclass
class Team:
    """The revenue team: users and teams as parallel lists."""

    user_names: list[str]
    user_roles: list[str]
    user_team: list[int]
    user_territory: list[str]
    user_manager: list[int]  # -1: none
    team_names: list[str]
    team_types: list[str]
    team_territory: list[str]
    team_manager: list[int]
    aes_by_territory: dict[tuple[int, int], list[int]]  # (region, segment) → user indices
    sdrs_by_region: dict[int, list[int]]
    csms_by_region: dict[int, list[int]]


def build_accounts(cfg: GeneratorConfig, rng: np.random.Generator) -> Accounts:
    """Draw every account of the market."""
    n = cfg.n_accounts
    p = cfg.params
    industry = choice(rng, weights([i[1] for i in cat.INDUSTRIES]), n)
    country = choice(rng, weights([c[2] for c in cat.COUNTRIES]), n)
    employees = np.clip(np.exp(rng.normal(np.log(180.0), 1.4, n)), 5, 150_000).astype(np.int64)
    revenue = np.round(employees * np.exp(rng.normal(np.log(160_000.0), 0.5, n)), -3)
    segment = np.searchsorted([s[1] for s in cat.SEGMENTS], employees, side="right") - 1
    # Technographics: at most one product per category, adoption growing with size.
    categories = sorted({t[1] for t in cat.TECHNOLOGIES})
    size_boost = np.clip(0.75 + 0.12 * np.log10(employees), 0.7, 1.25)
    tech_acc: list[IntArray] = []
    tech_ids: list[IntArray] = []
    tech_effect = np.zeros(n)
    for category in categories:
        members = [i for i, t in enumerate(cat.TECHNOLOGIES) if t[1] == category]
        shares = np.array([cat.TECHNOLOGIES[i][2] for i in members])
        has = rng.random(n) < np.minimum(shares.sum() * size_boost, 0.95)
        pick = np.array(members)[choice(rng, shares / shares.sum(), n)]
        acc = np.flatnonzero(has)
        tech_acc.append(acc)
        tech_ids.append(pick[acc])
        effects = np.array([t[3] for t in cat.TECHNOLOGIES])
        tech_effect[acc] += effects[pick[acc]]
    tech = np.concatenate(tech_acc)
    tech_id = np.concatenate(tech_ids)
    order = np.lexsort((tech_id, tech))
    tech, tech_id = tech[order], tech_id[order]
    first_seen = cfg.t0 - (rng.random(len(tech)) * 900 * DAY).astype(np.int64)
    # The hidden ICP fit: industry, place, size and stack, plus what no feature shows.
    size_effect = np.select(
        [employees < 20, employees < 200, employees < 2000], [-1.0, -0.1, 0.5], 0.3)
    fit_score = (np.array([i[2] for i in cat.INDUSTRIES])[industry]
                 + np.array([c[3] for c in cat.COUNTRIES])[country]
                 + size_effect + 0.6 * tech_effect + rng.normal(0.0, 0.6, n))
    cut_high, cut_medium = np.quantile(fit_score, [1 - FIT_SHARES[0],
                                                   1 - FIT_SHARES[0] - FIT_SHARES[1]])
    fit = np.where(fit_score >= cut_high, 0, np.where(fit_score >= cut_medium, 1, 2))
    propensity = np.array(CUSTOMER_PROPENSITY)[fit]
    is_customer = rng.random(n) < p.existing_customer_share * propensity / propensity.mean()
    contract_start = cfg.t0 - (rng.random(n) * 365 * DAY).astype(np.int64)
    acv = (p.acv_base * (employees / 200.0) ** p.acv_size_power
           * lognormal_mean_one(rng, p.acv_sigma, n) * np.array([1.15, 1.0, 0.85])[fit])
    acv = np.maximum(np.round(acv, -2), 1_000.0)
    created_at = cfg.t0 - (rng.random(n) * 3 * 365 * DAY).astype(np.int64)
    n_words, n_suffixes = len(cat.COMPANY_WORDS), len(cat.COMPANY_SUFFIXES)
    combos = rng.permutation(n_words * n_words * n_suffixes)
    combo = combos[np.arange(n) % len(combos)]
    return Accounts(
        industry=industry, country=country, employees=employees, annual_revenue=revenue,
        segment=segment.astype(np.int64), fit_score=fit_score, fit=fit.astype(np.int64),
        created_at=created_at, owner=np.zeros(n, dtype=np.int64), is_customer=is_customer,
        contract_start=contract_start, acv=acv, tech=tech, tech_id=tech_id,
        tech_first_seen=first_seen, name_word1=combo // (n_words * n_suffixes),
        name_word2=(combo // n_suffixes) % n_words, name_suffix=combo % n_suffixes,
    )


def build_team(cfg: GeneratorConfig, rng: np.random.Generator, accounts: Accounts) -> Team:
    """Territories (region × segment), account executives, SDRs, marketers, CSMs, managers;
    each account gets the executive of its territory (balanced by account count)."""
    names: list[str] = []
    roles: list[str] = []
    team_of: list[int] = []
    territory_of: list[str] = []
    manager_of: list[int] = []
    t_names: list[str] = []
    t_types: list[str] = []
    t_territory: list[str] = []
    t_manager: list[int] = []

    def person() -> str:
        first = cat.FIRST_NAMES[int(rng.integers(len(cat.FIRST_NAMES)))]
        last = cat.LAST_NAMES[int(rng.integers(len(cat.LAST_NAMES)))]
        return f"{first} {last}"

    def add_team(name: str, kind: str, territory: str) -> int:
        t_names.append(name)
        t_types.append(kind)
        t_territory.append(territory)
        manager = add_user("manager", len(t_names) - 1, territory, -1)
        t_manager.append(manager)
        return len(t_names) - 1

    def add_user(role: str, team: int, territory: str, manager: int) -> int:
        names.append(person())
        roles.append(role)
        team_of.append(team)
        territory_of.append(territory)
        manager_of.append(manager)
        return len(names) - 1

    region = accounts.region
    aes: dict[tuple[int, int], list[int]] = {}
    sdrs: dict[int, list[int]] = {}
    csms: dict[int, list[int]] = {}
    seg_names = [s[0] for s in cat.SEGMENTS]
    for r, region_name in enumerate(cat.REGIONS):
        team = add_team(f"Sales {region_name}", "sales", region_name)
        for s, seg in enumerate(seg_names):
            in_territory = int(np.sum((region == r) & (accounts.segment == s)))
            count = max(1, round(in_territory / 330))
            aes[(r, s)] = [add_user("rep", team, f"{region_name}-{seg}", t_manager[team])
                           for _ in range(count)]
        in_region = int(np.sum(region == r))
        sdr_team = add_team(f"SDR {region_name}", "sdr", region_name)
        sdrs[r] = [add_user("sdr", sdr_team, region_name, t_manager[sdr_team])
                   for _ in range(max(1, round(in_region / 900)))]
        cs_team = add_team(f"Customer Success {region_name}", "customer_success", region_name)
        csms[r] = [add_user("csm", cs_team, region_name, t_manager[cs_team])
                   for _ in range(max(1, round(in_region / 1500)))]
    marketing = add_team("Marketing", "marketing", "global")
    for _ in range(max(2, round(12 * cfg.scale))):
        add_user("marketer", marketing, "global", t_manager[marketing])
    # Balanced book of business: accounts of a territory dealt round-robin in random order.
    owner = np.zeros(accounts.n, dtype=np.int64)
    for (r, s), reps in aes.items():
        members = np.flatnonzero((region == r) & (accounts.segment == s))
        members = members[rng.permutation(len(members))]
        owner[members] = np.array(reps)[np.arange(len(members)) % len(reps)]
    accounts.owner = owner
    return Team(names, roles, team_of, territory_of, manager_of, t_names, t_types, t_territory,
                t_manager, aes, sdrs, csms)


@dataclass
class People:
    """The people of a block of accounts: buying-group members who may become known, members
    who never identify themselves, and noise leads (students, job seekers, competitors)."""

    account: IntArray  # -1 for noise leads
    member: IntArray  # position in the buying group (unique within the account)
    seniority: IntArray
    function: IntArray
    first: IntArray
    last: IntArray
    free_mail: BoolArray
    engagement: FloatArray  # how active the person is (mean 1)
    hidden: BoolArray  # never fills a form: stays anonymous
    noise: BoolArray
    visitor: BoolArray  # anonymous traffic from outside the target accounts
    base_created: IntArray  # in the CRM before the history (else -1)
    cookie: IntArray  # anonymous id (64-bit)

    @property
    def n(self) -> int:
        return len(self.account)


def build_people(cfg: GeneratorConfig, rng: np.random.Generator, accounts: Accounts,
                 first: int, last: int) -> People:
    """The buying groups of accounts ``first`` to ``last - 1`` and the block's noise leads."""
    p = cfg.params
    n_acc = last - first
    emp = accounts.employees[first:last]
    # 1–12 people; bigger companies have bigger buying groups.
    prob = np.clip((p.contacts_per_account - 1) / 11 + 0.1 * np.log10(emp / 180.0), 0.3, 0.97)
    size = 1 + rng.binomial(11, prob)
    n_hidden = rng.poisson(p.anonymous_visitors_per_account, n_acc)
    total = size + n_hidden
    account = np.repeat(np.arange(first, last, dtype=np.int64), total)
    starts = np.r_[0, np.cumsum(total)[:-1]]
    member = np.arange(len(account)) - np.repeat(starts, total)
    hidden = member >= np.repeat(size, total)
    n_noise = int(rng.poisson(p.noise_leads_per_account * n_acc))
    n_vis = int(rng.poisson(p.visitors_per_account * n_acc))
    n_members = len(account)
    account = np.r_[account, np.full(n_noise + n_vis, -1, dtype=np.int64)]
    member = np.r_[member, np.arange(n_noise + n_vis)]
    hidden = np.r_[hidden, np.zeros(n_noise, dtype=bool), np.ones(n_vis, dtype=bool)]
    noise = np.zeros(len(account), dtype=bool)
    noise[n_members:n_members + n_noise] = True
    visitor = np.zeros(len(account), dtype=bool)
    visitor[n_members + n_noise:] = True
    n = len(account)
    seniority = choice(rng, weights([s[1] for s in cat.SENIORITIES]), n)
    function = choice(rng, weights([f[1] for f in cat.FUNCTIONS]), n)
    seniority[noise] = len(cat.SENIORITIES) - 1  # staff
    engagement = (np.array([s[2] for s in cat.SENIORITIES])[seniority]
                  * np.array([f[2] for f in cat.FUNCTIONS])[function]
                  * lognormal_mean_one(rng, 0.6, n))
    engagement /= max(float(engagement.mean()), 1e-9)
    base = (rng.random(n) < p.crm_base_share) & ~hidden & ~noise
    base_created = np.where(base, cfg.t0 - (rng.random(n) * 730 * DAY).astype(np.int64), -1)
    free_mail = (rng.random(n) < 0.06) | noise
    return People(
        account=account, member=member.astype(np.int64), seniority=seniority,
        function=function, first=rng.integers(0, len(cat.FIRST_NAMES), n),
        last=rng.integers(0, len(cat.LAST_NAMES), n), free_mail=free_mail,
        engagement=engagement, hidden=hidden, noise=noise, visitor=visitor,
        base_created=base_created,
        cookie=rng.integers(0, 2**62, n),
    )
