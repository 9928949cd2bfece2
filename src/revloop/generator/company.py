"""Generate a whole company: the shared world, every block, the global tables and the truth,
written as canonical files (``<entity>.parquet`` or ``.csv``) plus ``truth/truth_*.*``."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from revloop.errors import ConfigError
from revloop.generator import catalog as cat
from revloop.generator.arrow_util import (
    bools,
    dates,
    days_to_dates,
    floats,
    ids,
    join,
    pick,
    take,
    timestamps,
)
from revloop.generator.block import QUOTA_CLASSES, BlockResult, simulate_block
from revloop.generator.config import CHANNELS, DAY, GeneratorConfig
from revloop.generator.draws import lognormal_mean_one
from revloop.generator.marketing import DATED_CHANNELS, quarter_label
from revloop.generator.outcomes import Effects, causal_effects
from revloop.generator.rows import SOURCE
from revloop.generator.world import World, build_world
from revloop.schema import ENTITY_BY_NAME, ColumnType

FORMATS = ("parquet", "csv")
ProgressHook = Callable[[str, int, int], None]  # (step, done, total)
_ARROW: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(), ColumnType.INTEGER: pa.int64(),
    ColumnType.NUMBER: pa.float64(), ColumnType.AMOUNT: pa.float64(),
    ColumnType.BOOLEAN: pa.bool_(), ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us"), ColumnType.JSON: pa.string(),
}
BLOCK_ENTITIES = ("contacts", "touchpoints", "opportunities", "opportunity_contacts",
                  "stage_transitions", "campaign_members", "intent_signals")
TRUTH_BLOCK_TABLES = ("truth_in_market_windows", "truth_opportunity_drivers")


@dataclass
class GenerateResult:
    """What was written, and the headline figures of the company."""

    out_dir: str
    files: dict[str, str]
    rows: dict[str, int]
    truth_files: dict[str, str]
    config: dict[str, Any]
    seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def entity_schema(name: str) -> pa.Schema:
    """The Arrow schema of a canonical file of ``name`` as the generator writes it."""
    ent = ENTITY_BY_NAME[name]
    return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in ent.columns])


class _Sink:
    """Streaming writers, one file per table, opened on first write."""

    def __init__(self, folder: Path, fmt: str) -> None:
        self.folder = folder
        self.fmt = fmt
        self.writers: dict[str, Any] = {}
        self.paths: dict[str, Path] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table, schema: pa.Schema | None = None) -> None:
        if schema is not None:  # every canonical column, in order; absent ones empty
            unknown = set(table.column_names) - set(schema.names)
            if unknown:
                raise ValueError(f"{name}: columns {sorted(unknown)} are not canonical")
            table = pa.table({
                f.name: table[f.name] if f.name in table.column_names
                else pa.nulls(table.num_rows, f.type) for f in schema
            }).cast(schema)
        if name not in self.writers:
            path = self.folder / f"{name}.{self.fmt}"
            self.paths[name] = path
            self.rows[name] = 0
            if self.fmt == "parquet":
                self.writers[name] = pq.ParquetWriter(path, table.schema, compression="zstd")
            else:
                self.writers[name] = pacsv.CSVWriter(path, table.schema)
        self.writers[name].write_table(table)
        self.rows[name] += table.num_rows

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


def _blocks(world: World, workers: int) -> Iterator[BlockResult]:
    """Block results in block order, computed by ``workers`` processes, at most ``workers``
    blocks ahead of the writer (results waiting to be written hold memory)."""
    if workers <= 1 or world.n_blocks <= 1:
        for b in range(world.n_blocks):
            yield simulate_block(world, b)
        return
    global _WORLD
    _WORLD = world
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(workers) as pool:
            pending: deque[Any] = deque()
            nxt = 0
            while nxt < world.n_blocks or pending:
                while nxt < world.n_blocks and len(pending) < workers:
                    pending.append(pool.apply_async(_simulate_in_child, (nxt,)))
                    nxt += 1
                yield pending.popleft().get()
    finally:
        _WORLD = None


_WORLD: World | None = None


def _simulate_in_child(b: int) -> BlockResult:
    assert _WORLD is not None
    return simulate_block(_WORLD, b)


def generate(cfg: GeneratorConfig, out_dir: str | Path, fmt: str = "parquet",
             progress: ProgressHook | None = None, workers: int | None = None) -> GenerateResult:
    """Write the company of ``cfg`` into ``out_dir`` (which must be empty or absent)."""
    import time

    started = time.perf_counter()
    if fmt not in FORMATS:
        raise ConfigError(f"unknown output format {fmt!r}; use parquet or csv")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} is not empty; choose a new folder or remove it first")
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir()
    report = progress or (lambda _s, _d, _t: None)
    report("world", 0, 1)
    world = build_world(cfg)
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    sink = _Sink(out, fmt)
    truth = _Sink(out / "truth", fmt)
    nq = len(cfg.quarters)
    channels, campaigns_fx, content_fx = (Effects.zeros(len(CHANNELS)),
                                          Effects.zeros(world.campaigns.n),
                                          Effects.zeros(world.content.n))
    acc_windows = np.zeros(world.accounts.n, dtype=np.int64)
    acc_new = np.zeros(world.accounts.n, dtype=np.int64)
    acc_won = np.zeros(world.accounts.n, dtype=np.int64)
    bookings = np.zeros((nq, len(QUOTA_CLASSES)))
    pipeline = np.zeros((nq, len(QUOTA_CLASSES)))
    rep = np.zeros((nq, len(world.team.user_names)))
    try:
        for b, res in enumerate(_blocks(world, n_workers)):
            report("accounts", b, world.n_blocks)
            for name in BLOCK_ENTITIES:
                sink.write(name, res.tables[name], entity_schema(name))
            for name in TRUTH_BLOCK_TABLES:
                truth.write(name, res.tables[name])
            channels.add(res.channels)
            campaigns_fx.add(res.campaigns)
            content_fx.add(res.content)
            first, last = world.block_range(b)
            acc_windows[first:last] = res.account_windows
            acc_new[first:last] = res.account_new_deals
            acc_won[first:last] = res.account_new_won
            bookings += res.bookings
            pipeline += res.pipeline
            rep += res.rep_bookings
        report("accounts", world.n_blocks, world.n_blocks)
        rng = np.random.default_rng([cfg.seed, 2])
        spend = _campaign_spend(world, rng, campaigns_fx.touches)
        for name, table in _global_tables(world, rng, spend, bookings, pipeline, rep).items():
            sink.write(name, table, entity_schema(name))
        for name, table in _truth_tables(world, channels, campaigns_fx, content_fx, spend,
                                         acc_windows, acc_new, acc_won).items():
            truth.write(name, table)
    except BaseException:
        sink.close()
        truth.close()
        shutil.rmtree(out, ignore_errors=True)
        raise
    sink.close()
    truth.close()
    result = GenerateResult(
        out_dir=str(out), files={k: str(v) for k, v in sink.paths.items()}, rows=sink.rows,
        truth_files={k: str(v) for k, v in truth.paths.items()},
        config={"scale": cfg.scale, "seed": cfg.seed, "start": cfg.start.isoformat(),
                "days": cfg.days, "format": fmt},
        summary=_summary(channels, sink.rows, acc_new, acc_won, world),
    )
    result.seconds = round(time.perf_counter() - started, 3)
    manifest = {k: v for k, v in result.to_dict().items() if k not in ("seconds", "out_dir")}
    manifest["files"] = {k: Path(v).name for k, v in result.files.items()}
    manifest["truth_files"] = {k: f"truth/{Path(v).name}" for k, v in result.truth_files.items()}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return result


def _summary(channels: Effects, rows: dict[str, int], acc_new: np.ndarray,
             acc_won: np.ndarray, world: World) -> dict[str, Any]:
    return {
        "accounts": world.accounts.n,
        "new_business_opportunities": int(acc_new.sum()),
        "new_business_won": int(acc_won.sum()),
        "incremental_opportunities_by_channel": {
            c.name: round(float(v), 3) for c, v in zip(CHANNELS, channels.opportunities,
                                                       strict=True)},
    }


def _campaign_spend(world: World, rng: np.random.Generator,
                    touches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily spend of each campaign: its touches × the channel's cost per touch (with
    noise), spread over its days — or, for webinars and events, over the month before."""
    cfg = world.cfg
    camp = world.campaigns
    cost = np.array([c.cost_per_touch for c in CHANNELS])[camp.channel]
    total = np.round(touches * cost * lognormal_mean_one(rng, 0.25, camp.n), 2)
    dated = np.array([CHANNELS[c].name in DATED_CHANNELS for c in camp.channel])
    first_day = np.where(dated, camp.start - 30 * DAY, camp.start) // DAY
    last_day = np.where(dated, camp.end, camp.end) // DAY  # exclusive
    first_day = np.maximum(first_day, cfg.t0 // DAY)
    last_day = np.minimum(last_day, cfg.t1 // DAY)
    n_days = np.maximum(last_day - first_day, 1)
    c = np.repeat(np.arange(camp.n), n_days)
    offset = np.arange(len(c)) - np.repeat(np.r_[0, np.cumsum(n_days)[:-1]], n_days)
    day = first_day[c] + offset
    w = lognormal_mean_one(rng, 0.3, len(c))
    share = w / np.bincount(c, w, camp.n)[c]
    amount = np.round(total[c] * share, 2)
    keep = amount > 0
    return c[keep], day[keep], amount[keep]


def _global_tables(world: World, rng: np.random.Generator,
                   spend: tuple[np.ndarray, np.ndarray, np.ndarray], bookings: np.ndarray,
                   pipeline: np.ndarray, rep: np.ndarray) -> dict[str, pa.Table]:
    cfg = world.cfg
    acc = world.accounts
    team = world.team
    camp = world.campaigns
    content = world.content
    n = acc.n
    seg_names = [s[0] for s in cat.SEGMENTS]
    tables: dict[str, pa.Table] = {}
    tables["accounts"] = pa.table({
        "account_id": world.account_ids, "name": world.account_names,
        "domain": world.account_domains,
        "industry": pick([i[0] for i in cat.INDUSTRIES], acc.industry),
        "employees": pa.array(acc.employees), "annual_revenue": floats(acc.annual_revenue),
        "country": pick([c[0] for c in cat.COUNTRIES], acc.country),
        "region": pick(list(cat.REGIONS), acc.region),
        "owner_id": world.user_ids.take(pa.array(acc.owner)),
        "parent_account_id": pa.nulls(n, pa.string()),
        "created_at": timestamps(acc.created_at),
        "source": pa.array([SOURCE] * n),
        "custom": join('{"segment": "', pick(seg_names, acc.segment), '"}'),
    })
    tables["technographics"] = pa.table({
        "account_id": world.account_ids.take(pa.array(acc.tech)),
        "technology": pick([t[0] for t in cat.TECHNOLOGIES], acc.tech_id),
        "category": pick([t[1] for t in cat.TECHNOLOGIES], acc.tech_id),
        "first_seen": dates(acc.tech_first_seen),
        "last_seen": dates(np.full(len(acc.tech), cfg.t1 - DAY)),
        "source": pa.array([SOURCE] * len(acc.tech)),
    })
    nu = len(team.user_names)
    tables["users"] = pa.table({
        "user_id": world.user_ids,
        "name": pa.array(team.user_names),
        "email": pa.array([f"{name.lower().replace(' ', '.')}.{i}@lumenary.io"
                           for i, name in enumerate(team.user_names)]),
        "role": pa.array(team.user_roles),
        "team_id": ids("team-", np.array(team.user_team), 2),
        "manager_id": take(world.user_ids, np.array(team.user_manager)),
        "territory": pa.array(team.user_territory),
        "is_active": bools(np.ones(nu, dtype=bool)),
        "source": pa.array([SOURCE] * nu),
    })
    nt = len(team.team_names)
    tables["teams"] = pa.table({
        "team_id": ids("team-", np.arange(nt), 2), "name": pa.array(team.team_names),
        "team_type": pa.array(team.team_types),
        "manager_id": world.user_ids.take(pa.array(team.team_manager)),
        "territory": pa.array(team.team_territory), "source": pa.array([SOURCE] * nt),
    })
    c_idx, c_day, c_amount = spend
    actual = np.bincount(c_idx, c_amount, camp.n)
    budget = np.round(actual * rng.uniform(0.9, 1.15, camp.n), -2)
    channel_names = [c.name for c in CHANNELS]
    labels = [quarter_label(cfg, int(q)) for q in camp.quarter]
    tables["campaigns"] = pa.table({
        "campaign_id": world.campaign_ids,
        "name": pa.array([f"{lab} {th}" for lab, th in zip(labels, camp.theme, strict=True)]),
        "channel": pick(channel_names, camp.channel),
        "campaign_type": pick([c.replace("_", " ").title() for c in channel_names],
                              camp.channel),
        "parent_campaign_id": pa.nulls(camp.n, pa.string()),
        "status": pa.array(np.where(camp.end <= cfg.t1, "completed", "active").astype(object),
                           pa.string()),
        "start_date": dates(camp.start), "end_date": dates(camp.end - 1),
        "budgeted_cost": floats(budget), "actual_cost": floats(actual),
        "source": pa.array([SOURCE] * camp.n),
        "custom": join('{"theme": "', pa.array(camp.theme), '", "quality_hidden": false}'),
    })
    tables["campaign_spend"] = pa.table({
        "campaign_id": world.campaign_ids.take(pa.array(c_idx)),
        "day": days_to_dates(c_day), "amount": floats(c_amount),
        "source": pa.array([SOURCE] * len(c_idx)),
    })
    topics = [t.replace("_", " ").title() for t in cat.TOPICS]
    formats = [f[0] for f in cat.CONTENT_FORMATS]
    tables["content"] = pa.table({
        "content_id": world.content_ids,
        "title": join(pick(topics, content.topic), ": ",
                      pick([f.replace("_", " ") for f in formats], content.fmt), " ",
                      ids("#", np.arange(content.n), 3)),
        "content_type": pick(formats, content.fmt), "topic": pick(cat.TOPICS, content.topic),
        "url": world.content_urls, "published_at": timestamps(content.published),
        "funnel_stage": pick(cat.FUNNEL_STAGES, content.stage),
        "persona": pick(cat.PERSONAS, content.persona),
        "source": pa.array([SOURCE] * content.n),
        "custom": pa.nulls(content.n, pa.string()),
    })
    tables["quotas"] = _quotas(world, rng, bookings, pipeline, rep)
    return tables


def _quotas(world: World, rng: np.random.Generator, bookings: np.ndarray,
            pipeline: np.ndarray, rep: np.ndarray) -> pa.Table:
    """Quarterly targets set near what each source class and rep delivers (attainment
    scattered around 95 %), for bookings and pipeline."""
    cfg = world.cfg
    nq = len(cfg.quarters)
    rows: dict[str, list[Any]] = {k: [] for k in ("period_start", "period_end", "channel",
                                                  "team_id", "user_id", "amount", "metric")}

    def add(q: int, channel: str | None, user: str | None, amount: float, metric: str) -> None:
        qs, qe = cfg.quarters[q]
        rows["period_start"].append(qs // DAY)
        rows["period_end"].append(qe // DAY - 1)
        rows["channel"].append(channel)
        rows["team_id"].append(None)
        rows["user_id"].append(user)
        rows["amount"].append(round(amount, -2))
        rows["metric"].append(metric)

    for q in range(nq):
        for k, cls in enumerate(QUOTA_CLASSES):
            factor = float(np.exp(rng.normal(0, 0.15))) / 0.95
            add(q, cls, None, max(bookings[q, k] * factor, 1000.0), "bookings")
            add(q, cls, None, max(pipeline[q, k] * factor, 1000.0), "pipeline")
        reps = [u for u, role in enumerate(world.team.user_roles) if role == "rep"]
        for u in reps:
            factor = float(np.exp(rng.normal(0, 0.25))) / 0.95
            add(q, None, world.user_ids[u].as_py(),
                max(rep[q, u] * factor, 10_000.0), "bookings")
    n = len(rows["amount"])
    return pa.table({
        "period_start": days_to_dates(np.array(rows["period_start"])),
        "period_end": days_to_dates(np.array(rows["period_end"])),
        "channel": pa.array(rows["channel"], pa.string()),
        "team_id": pa.array(rows["team_id"], pa.string()),
        "user_id": pa.array(rows["user_id"], pa.string()),
        "amount": pa.array(rows["amount"], pa.float64()),
        "metric": pa.array(rows["metric"], pa.string()),
        "source": pa.array([SOURCE] * n),
    })


def _effects_columns(fx: Effects) -> dict[str, pa.Array]:
    return {
        "touches": pa.array(fx.touches.astype(np.int64)),
        "in_market_touches": pa.array(fx.in_market_touches.astype(np.int64)),
        "incremental_opportunities": pa.array(np.round(fx.opportunities).astype(np.int64)),
        "expected_incremental_opportunities": floats(np.round(fx.expected_opportunities, 6)),
        "incremental_pipeline": floats(np.round(fx.pipeline, 2)),
        "incremental_revenue": floats(np.round(fx.revenue, 2)),
        "expected_incremental_revenue": floats(np.round(fx.expected_revenue, 2)),
    }


def _truth_tables(world: World, channels: Effects, campaigns: Effects, content: Effects,
                  spend: tuple[np.ndarray, np.ndarray, np.ndarray], acc_windows: np.ndarray,
                  acc_new: np.ndarray, acc_won: np.ndarray) -> dict[str, pa.Table]:
    camp = world.campaigns
    channel_names = [c.name for c in CHANNELS]
    c_idx, _, c_amount = spend
    camp_spend = np.bincount(c_idx, c_amount, camp.n)
    ch_spend = np.bincount(camp.channel, camp_spend, len(CHANNELS))
    hazard, win_effect = causal_effects(world.cfg)
    tables: dict[str, pa.Table] = {}
    tables["truth_channel_effects"] = pa.table({
        "channel": pa.array(channel_names),
        "hazard_per_touch": floats(hazard),
        "win_effect_per_touch": floats(win_effect),
        **_effects_columns(channels),
        "spend": floats(np.round(ch_spend, 2)),
    })
    tables["truth_campaign_effects"] = pa.table({
        "campaign_id": world.campaign_ids,
        "channel": pick(channel_names, camp.channel),
        "quality": floats(np.round(camp.quality, 6)),
        "hazard_per_touch": floats(np.round(hazard[camp.channel] * camp.quality, 6)),
        **_effects_columns(campaigns),
        "spend": floats(np.round(camp_spend, 2)),
    })
    tables["truth_content_effects"] = pa.table({
        "content_id": world.content_ids,
        "quality": floats(np.round(world.content.quality, 6)),
        "popularity": floats(np.round(world.content.popularity, 6)),
        **_effects_columns(content),
    })
    acc = world.accounts
    tables["truth_accounts"] = pa.table({
        "account_id": world.account_ids,
        "icp_fit": pick(list(world.cfg.params.fit_levels), acc.fit),
        "fit_score": floats(np.round(acc.fit_score, 6)),
        "segment": pick([s[0] for s in cat.SEGMENTS], acc.segment),
        "customer_at_start": bools(acc.is_customer),
        "in_market_windows": pa.array(acc_windows),
        "new_opportunities": pa.array(acc_new),
        "new_won": pa.array(acc_won),
    })
    params = asdict(world.cfg.params)
    names = list(params) + [f"{c.name}.{k}" for c in CHANNELS
                            for k in ("background", "in_market", "hazard", "win_effect",
                                      "cost_per_touch")]
    values = [json.dumps(v) for v in params.values()] + [
        json.dumps(getattr(c, k)) for c in CHANNELS
        for k in ("background", "in_market", "hazard", "win_effect", "cost_per_touch")]
    tables["truth_parameters"] = pa.table({"name": pa.array(names), "value": pa.array(values)})
    return tables
