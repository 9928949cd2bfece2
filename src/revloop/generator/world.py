"""What every block of accounts shares: the accounts, the revenue team, campaigns, content,
and their identifiers as Arrow columns."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revloop.generator import catalog as cat
from revloop.generator.arrow_util import ids, join, pick
from revloop.generator.config import GeneratorConfig
from revloop.generator.market import Accounts, Team, build_accounts, build_team
from revloop.generator.marketing import Campaigns, Content, build_campaigns, build_content

BLOCK_ACCOUNTS = 2048  # accounts per block: the unit of work and of randomness
SITE = "https://www.lumenary.io"  # the simulated vendor's web site


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters only (Müller → muller), for e-mail addresses and domains."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


@dataclass
class World:
    """The shared part of the simulated company."""

    cfg: GeneratorConfig
    accounts: Accounts
    team: Team
    campaigns: Campaigns
    content: Content
    account_ids: pa.Array
    account_names: pa.Array
    account_domains: pa.Array
    user_ids: pa.Array
    campaign_ids: pa.Array
    content_ids: pa.Array
    content_urls: pa.Array
    sdrs_of: list[np.ndarray]

    @property
    def n_blocks(self) -> int:
        return -(-self.accounts.n // BLOCK_ACCOUNTS)

    def block_range(self, b: int) -> tuple[int, int]:
        return b * BLOCK_ACCOUNTS, min((b + 1) * BLOCK_ACCOUNTS, self.accounts.n)


def build_world(cfg: GeneratorConfig) -> World:
    """Draw the shared part of the company from the seed."""
    rng = np.random.default_rng([cfg.seed, 0])
    accounts = build_accounts(cfg, rng)
    team = build_team(cfg, rng, accounts)
    campaigns = build_campaigns(cfg, rng)
    content = build_content(cfg, rng)
    n = accounts.n
    word = pa.array(list(cat.COMPANY_WORDS))
    suffix = pa.array(list(cat.COMPANY_SUFFIXES))
    w1 = word.take(pa.array(accounts.name_word1))
    w2 = word.take(pa.array(accounts.name_word2))
    sx = suffix.take(pa.array(accounts.name_suffix))
    repeat = np.arange(n) // (len(cat.COMPANY_WORDS) ** 2 * len(cat.COMPANY_SUFFIXES))
    tail = pc.if_else(pa.array(repeat > 0), join(" ", pa.array(repeat).cast(pa.string())), "")
    names = join(w1, " ", w2, " ", sx, tail)
    slug_word = pa.array([ascii_slug(w) for w in cat.COMPANY_WORDS])
    slug_suffix = pa.array([ascii_slug(s) for s in cat.COMPANY_SUFFIXES])
    tail_slug = pc.if_else(pa.array(repeat > 0), pa.array(repeat).cast(pa.string()), "")
    domains = join(slug_word.take(pa.array(accounts.name_word1)),
                   slug_word.take(pa.array(accounts.name_word2)),
                   slug_suffix.take(pa.array(accounts.name_suffix)), tail_slug, ".com")
    slugs = [f"{cat.TOPICS[t].replace('_', '-')}-{cat.CONTENT_FORMATS[f][0].replace('_', '-')}"
             for t, f in zip(content.topic, content.fmt, strict=True)]
    content_ids = ids("cnt-", np.arange(content.n), 4)
    urls = join(f"{SITE}/resources/", pa.array(slugs), "-", content_ids)
    sdrs_of = [np.array(team.sdrs_by_region[r], dtype=np.int64)
               for r in range(len(cat.REGIONS))]
    return World(
        cfg=cfg, accounts=accounts, team=team, campaigns=campaigns, content=content,
        account_ids=ids("acc-", np.arange(n), 6), account_names=names,
        account_domains=domains, user_ids=ids("u-", np.arange(len(team.user_names)), 4),
        campaign_ids=ids("cmp-", np.arange(campaigns.n), 4), content_ids=content_ids,
        content_urls=urls, sdrs_of=sdrs_of,
    )


def channel_names() -> pa.Array:
    """Channel names by channel index (the last one is ``sales``)."""
    from revloop.generator.touches import CHANNEL_NAMES

    return pick(CHANNEL_NAMES, np.arange(len(CHANNEL_NAMES)))
