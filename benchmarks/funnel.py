"""Funnel benchmark: the full funnel report on a company of the generator's SF1 size.

    .venv/bin/python benchmarks/funnel.py --db URL                 # a store from `revloop generate`
    .venv/bin/python benchmarks/funnel.py --synthetic [--engines duckdb,postgres,spark]
    .venv/bin/python benchmarks/funnel.py --copy-from URL --engines postgres,spark

* ``--db URL`` times the report on an existing store (e.g. one filled by
  ``revloop generate --scale 1 --seed 1 --db URL``). A store without stage transitions is
  refused with that command as the hint (or add ``--synthetic`` to fill it with this
  benchmark's own data).
* ``--synthetic`` builds a seeded company of SF1 size straight into the marts the funnel reads
  (by default 30,000 accounts, 300,000 people with ~3 stage transitions each — skipped stages,
  equal timestamps, recycling with re-entry, disqualification —, 20,000 opportunities with ~5,
  10,000,000 touchpoints), in a fresh store per engine: DuckDB in ``benchmarks/.data/``
  (reused while the parameters are unchanged), PostgreSQL in a new database
  ``revloop_bench_funnel_<pid>`` (dropped afterwards), Spark in a temporary warehouse.
* ``--copy-from URL`` fills fresh stores (``--engines``) with the marts the funnel reads,
  copied from another store — e.g. the generator's SF1 company on DuckDB, to time the same
  data on PostgreSQL and Spark without importing and building it again.
* The timed report is the whole thing, at the lead and at the account level: conversion,
  velocity, time in stage, stalls, monthly cohorts, cut by channel, leakage, post-sale and the
  status against last month. Loading data is not timed. Each level runs ``--repeat`` times;
  the best and the median are reported.
* Target: lead + account report ≤ 5 s on DuckDB (best of the repeats); PostgreSQL and Spark
  are reported. Results go to ``benchmarks/results/funnel.json``; the exit status is 1 when
  the DuckDB target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".data"
RESULTS = ROOT / "benchmarks" / "results" / "funnel.json"
TARGET_SECONDS = 5.0
START = dt.datetime(2024, 1, 1)
SPAN_DAYS = 730
CHANNELS = ("paid_search", "paid_social", "display", "email", "webinar", "events",
            "content_syndication", "partner", "outbound_sales", "organic_search",
            "organic_social", "direct", "referral")
EXIT_REASONS = {"disqualified": ("bad fit", "no budget", "student", "competitor"),
                "recycled": ("not now", "no response", "timing"),
                "lost": ("price", "competitor", "no decision", "timing")}
VERSION = 1  # bump when the synthetic data changes


# -- synthetic company ------------------------------------------------------------------------

class Synthetic:
    """A seeded company shaped like the generator's SF1, as mart tables."""

    def __init__(self, accounts: int, people: int, opportunities: int, touchpoints: int,
                 seed: int) -> None:
        self.n_acc, self.n_people, self.n_opp, self.n_tp = (
            accounts, people, opportunities, touchpoints)
        self.rng = np.random.default_rng(seed)
        self.start = np.datetime64(START, "s")
        self.end = self.start + np.timedelta64(SPAN_DAYS * 86400, "s")

    def _days(self, scale: float, n: int) -> Any:
        return (self.rng.exponential(scale * 86400, n)).astype("int64").astype("timedelta64[s]")

    def tables(self) -> dict[str, pa.Table]:
        """Every mart the funnel reads."""
        rng = self.rng
        users = [f"u{i:03d}" for i in range(200)]
        acc_ids = np.array([f"A{i:06d}" for i in range(self.n_acc)])
        employees = np.round(rng.lognormal(5, 1.6, self.n_acc)).astype("int64") + 1
        accounts = pa.table({
            "account_id": acc_ids, "name": acc_ids,
            "industry": rng.choice(["software", "manufacturing", "finance", "health",
                                    "retail"], self.n_acc),
            "employees": employees, "country": rng.choice(["US", "DE", "FR", "UK", "ES"],
                                                          self.n_acc),
            "owner_id": rng.choice(users, self.n_acc),
        })
        people, transitions = self._people(acc_ids, users)
        opps, opp_transitions, account_transitions = self._opportunities(acc_ids, users)
        st = pa.concat_tables([transitions, opp_transitions, account_transitions])
        st = st.append_column("original_entity_id", st.column("entity_id"))
        return {
            "accounts": accounts, "contacts": people, "stage_transitions": st,
            "opportunities": opps, "touchpoints": self._touchpoints(people),
            "users": pa.table({"user_id": users, "name": [f"Rep {u}" for u in users],
                               "team_id": [f"T{int(u[1:]) % 20:02d}" for u in users]}),
            "teams": pa.table({"team_id": [f"T{i:02d}" for i in range(20)],
                               "name": [f"Team {i}" for i in range(20)]}),
            "campaigns": pa.table({"campaign_id": [f"C{i:03d}" for i in range(600)],
                                   "name": [f"Campaign {i}" for i in range(600)],
                                   "channel": rng.choice(CHANNELS, 600)}),
            "opportunity_contacts": pa.table({"opportunity_id": pa.array([], pa.string()),
                                              "contact_id": pa.array([], pa.string())}),
            "campaign_members": pa.table({"campaign_id": pa.array([], pa.string()),
                                          "contact_id": pa.array([], pa.string()),
                                          "created_at": pa.array([], pa.timestamp("us"))}),
        }

    def _people(self, acc_ids: Any, users: list[str]) -> tuple[pa.Table, pa.Table]:
        rng, n = self.rng, self.n_people
        ids = np.array([f"P{i:07d}" for i in range(n)])
        created = self.start + (rng.random(n) * SPAN_DAYS * 86400).astype("int64").astype(
            "timedelta64[s]")
        people = pa.table({
            "contact_id": ids, "record_type": np.full(n, "lead"),
            "account_id": rng.choice(acc_ids, n), "owner_id": rng.choice(users, n),
            "lead_source": rng.choice(CHANNELS, n), "created_at": created.astype("datetime64[us]"),
            "country": rng.choice(["US", "DE", "FR", "UK", "ES"], n),
            "custom": np.array([f'{{"tier": "{t}"}}' for t in rng.choice(["a", "b", "c"], n)]),
            "converted_opportunity_id": pa.nulls(n, pa.string()),
        })
        stages = ("inquiry", "mql", "sal", "sql", "opportunity", "customer")
        advance = (0.62, 0.72, 0.6, 0.62, 0.32)
        gaps = (6.0, 3.0, 8.0, 12.0, 45.0)
        depth = np.zeros(n, dtype="int64")
        alive = np.ones(n, dtype=bool)
        for p in advance:
            alive &= rng.random(n) < p
            depth += alive
        parts: list[tuple[Any, str, Any, Any]] = []
        t = created.copy()
        last_t = created.copy()
        for k, stage in enumerate(stages):
            if k:
                same = rng.random(n) < 0.03  # same instant as the previous stage
                t = t + np.where(same, np.timedelta64(0, "s"), self._days(gaps[k - 1], n))
            has = depth >= k
            skip = (rng.random(n) < 0.05) & (k not in (0, 5)) & (depth > k)
            mask = has & ~skip
            parts.append((ids[mask], stage, t[mask], None))
            if k == 5:
                continue
            last_t = np.where(depth == k, t, last_t)
        stop = depth < 5
        exit_kind = np.where(rng.random(n) < 0.5, "disqualified", "recycled")
        exits = stop & (rng.random(n) < 0.5)
        exit_t = last_t + self._days(20, n)
        for kind in ("disqualified", "recycled"):
            m = exits & (exit_kind == kind)
            reasons = rng.choice(EXIT_REASONS[kind], int(m.sum()))
            parts.append((ids[m], kind, exit_t[m], reasons))
        back = exits & (exit_kind == "recycled") & (rng.random(n) < 0.3)
        parts.append((ids[back], "mql", (exit_t + self._days(60, n))[back], None))
        return people, self._transitions("lead", parts)

    def _transitions(self, etype: str, parts: list[tuple[Any, str, Any, Any]],
                     amounts: list[Any] | None = None) -> pa.Table:
        ids = np.concatenate([p[0] for p in parts])
        to = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
        at = np.concatenate([p[2] for p in parts])
        reason = np.concatenate([p[3] if p[3] is not None else np.full(len(p[0]), None)
                                 for p in parts])
        amount = (np.concatenate(amounts) if amounts is not None
                  else np.full(len(ids), np.nan))
        keep = at <= self.end
        n = int(keep.sum())
        return pa.table({
            "entity_type": pa.array(np.full(n, etype)), "entity_id": pa.array(ids[keep]),
            "from_stage": pa.nulls(n, pa.string()), "to_stage": pa.array(to[keep]),
            "occurred_at": pa.array(at[keep].astype("datetime64[us]")),
            "amount": pa.array(amount[keep], from_pandas=True),
            "reason": pa.array(reason[keep], pa.string()),
        })

    def _opportunities(self, acc_ids: Any, users: list[str]
                       ) -> tuple[pa.Table, pa.Table, pa.Table]:
        rng, n = self.rng, self.n_opp
        ids = np.array([f"O{i:06d}" for i in range(n)])
        account = rng.choice(acc_ids, n)
        kind = rng.choice(["new", "renewal", "expansion"], n, p=[0.8, 0.1, 0.1])
        amount = np.round(rng.lognormal(10, 0.8, n), 2)
        created = self.start + (rng.random(n) * SPAN_DAYS * 86400).astype("int64").astype(
            "timedelta64[s]")
        parts: list[tuple[Any, str, Any, Any]] = []
        amounts: list[Any] = []
        t = created.copy()
        last_t = created.copy()
        alive = np.ones(n, dtype=bool)
        current = amount.copy()
        for k, stage in enumerate(("qualification", "discovery", "proposal", "negotiation")):
            if k:
                alive &= rng.random(n) < 0.78
                t = t + self._days(12, n)
            current = np.where(alive, np.round(current * rng.normal(1, 0.05, n), 2), current)
            parts.append((ids[alive], stage, t[alive], None))
            amounts.append(current[alive])
            last_t = np.where(alive, t, last_t)
        close_t = last_t + self._days(20, n)
        closed = rng.random(n) < 0.85
        won = closed & (rng.random(n) < np.where(alive, 0.55, 0.15))
        lost = closed & ~won
        parts.append((ids[won], "closed_won", close_t[won], None))
        amounts.append(current[won])
        parts.append((ids[lost], "closed_lost", close_t[lost],
                      rng.choice(EXIT_REASONS["lost"], int(lost.sum()))))
        amounts.append(current[lost])
        opps = pa.table({
            "opportunity_id": ids, "account_id": account, "amount": current,
            "opportunity_type": kind, "owner_id": rng.choice(users, n),
            "product": rng.choice(["Core", "Pro", "Enterprise"], n),
            "source_channel": rng.choice(CHANNELS, n),
            "primary_campaign_id": pa.nulls(n, pa.string()),
            "created_at": created.astype("datetime64[us]"),
        })
        # accounts become customers at their first new-business win; some churn later
        new_won = won & (kind == "new")
        first: dict[str, Any] = {}
        for a, at in zip(account[new_won], close_t[new_won], strict=True):
            if a not in first or at < first[a]:
                first[a] = at
        acc = np.array(list(first), dtype=object)
        acc_t = np.array(list(first.values()), dtype="datetime64[s]")
        churn = rng.random(len(acc)) < 0.1
        acc_parts = [(acc, "customer", acc_t, None),
                     (acc[churn], "churned", (acc_t + self._days(300, len(acc)))[churn], None)]
        return (opps, self._transitions("opportunity", parts, amounts),
                self._transitions("account", acc_parts))

    def _touchpoints(self, people: pa.Table) -> pa.Table:
        rng, n = self.rng, self.n_tp
        who = rng.integers(0, people.num_rows, n)
        contact = people.column("contact_id").to_numpy(zero_copy_only=False)[who]
        account = people.column("account_id").to_numpy(zero_copy_only=False)[who]
        at = self.start + (rng.random(n) * SPAN_DAYS * 86400).astype("int64").astype(
            "timedelta64[s]")
        camp = np.where(rng.random(n) < 0.4,
                        np.char.add("C", np.char.zfill(rng.integers(0, 600, n).astype(str), 3)),
                        None)
        return pa.table({
            "touchpoint_id": pa.array(np.char.add("T", np.arange(n).astype(str))),
            "occurred_at": pa.array(at.astype("datetime64[us]")),
            "contact_id": pa.array(contact), "account_id": pa.array(account),
            "channel": pa.array(rng.choice(CHANNELS, n)),
            "campaign_id": pa.array(camp, pa.string()),
        })


FUNNEL_MARTS = ("accounts", "contacts", "stage_transitions", "opportunities", "touchpoints",
                "users", "teams", "campaigns", "opportunity_contacts", "campaign_members")
TOUCH_COLUMNS = ("touchpoint_id", "occurred_at", "contact_id", "account_id", "channel",
                 "campaign_id")


def copied(source_url: str) -> dict[str, pa.Table]:
    """The marts the funnel reads, from another store (touchpoints: the columns it uses)."""
    from revloop.store import connect

    with connect(source_url) as src:
        out = {}
        for name in FUNNEL_MARTS:
            t = src.table(name)
            if name == "touchpoints":
                t = t.select(*TOUCH_COLUMNS)
            out[name] = t.to_pyarrow()
        return out


def fill(store: Any, source: Synthetic | dict[str, pa.Table]) -> dict[str, int]:
    """Write the marts (canonical columns, missing ones empty) into ``store``."""
    from revloop.schema import ENTITY_BY_NAME
    from revloop.store.base import ARROW_TYPES

    counts = {}
    tables = source.tables() if isinstance(source, Synthetic) else source
    for name, table in tables.items():
        entity = ENTITY_BY_NAME.get(name)
        if entity is not None:
            for col in entity.columns:
                if col.name not in table.column_names:
                    table = table.append_column(
                        col.name, pa.nulls(table.num_rows, ARROW_TYPES[col.type]))
        print(f"  writing {name}: {table.num_rows:,} rows", flush=True)
        store.write_arrow(name, table)
        counts[name] = table.num_rows
    return counts


# -- the timed report -------------------------------------------------------------------------

def run_report(store: Any, level: str) -> tuple[float, Any]:
    """One full report at ``level``: every metric, by channel, monthly cohorts."""
    from revloop.facade import funnel

    request = funnel.FunnelRequest(level=level, by=("channel",), cohort="month")  # type: ignore[arg-type]
    started = time.perf_counter()
    result = funnel.run(store, request)
    return time.perf_counter() - started, result


def bench_store(store: Any, repeat: int) -> dict[str, Any]:
    """Time both levels ``repeat`` times on one store."""
    out: dict[str, Any] = {"engine": store.engine, "levels": {}}
    for level in ("lead", "account"):
        times = []
        result = None
        for _ in range(repeat):
            seconds, result = run_report(store, level)
            times.append(seconds)
        assert result is not None
        out["levels"][level] = {
            "best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
            "runs": [round(t, 3) for t in times], "journeys": result.journeys,
            "stages": result.stages, "won": result.stage(result.stages[-1]).entered,
            "steps_s": result.timings,
        }
        print(f"  {store.engine} {level}: best {min(times):.2f} s "
              f"(journeys {result.journeys:,})", flush=True)
    out["total_best_s"] = round(sum(v["best_s"] for v in out["levels"].values()), 3)
    return out


def _has_data(store: Any) -> bool:
    return "stage_transitions" in store.list_tables() and store.count("stage_transitions") > 0


def _environment() -> dict[str, Any]:
    import duckdb
    import ibis

    return {"python": platform.python_version(), "duckdb": duckdb.__version__,
            "ibis": ibis.__version__, "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="time an existing store (URL)")
    parser.add_argument("--synthetic", action="store_true",
                        help="fill fresh stores (or an empty --db) with synthetic SF1 data")
    parser.add_argument("--copy-from", metavar="URL",
                        help="fill fresh stores with the funnel's marts copied from this store")
    parser.add_argument("--engines", default="duckdb",
                        help="with --synthetic / --copy-from and no --db: duckdb,postgres,spark")
    parser.add_argument("--accounts", type=int, default=30_000)
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--touchpoints", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    sys.path.insert(0, str(ROOT / "src"))
    from revloop.store import connect

    if not args.db and not args.synthetic and not args.copy_from:
        parser.error("give --db URL (a store from `revloop generate`), --synthetic or "
                     "--copy-from URL")
    if args.synthetic and args.copy_from:
        parser.error("--synthetic and --copy-from exclude each other")
    source: Synthetic | dict[str, pa.Table] = (
        copied(args.copy_from) if args.copy_from else
        Synthetic(args.accounts, args.people, args.opportunities, args.touchpoints, args.seed))
    label = "copy of " + args.copy_from if args.copy_from else "synthetic"
    runs: list[dict[str, Any]] = []
    if args.db:
        store = connect(args.db)
        try:
            if not _has_data(store):
                if not (args.synthetic or args.copy_from):
                    print(f"{args.db} has no stage transitions. Make the SF1 company with\n"
                          f"  revloop generate --scale 1 --seed 1 --db {args.db}\n"
                          "or run this benchmark with --synthetic to use its own data.",
                          file=sys.stderr)
                    return 2
                fill(store, source)
            runs.append({"store": args.db, "data": label if (args.synthetic or args.copy_from)
                         else "store", **bench_store(store, args.repeat)})
        finally:
            store.close()
    else:
        engines = [e.strip() for e in args.engines.split(",") if e.strip()]
        for engine in engines:
            runs.append(_fresh_run(engine, source, label, args))
    duck = [r for r in runs if r.get("engine") == "duckdb"]
    met = all(r["total_best_s"] <= TARGET_SECONDS for r in duck) if duck else None
    doc = {"measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           "environment": _environment(), "target_duckdb_s": TARGET_SECONDS,
           "target_met": met, "parameters": vars(args), "runs": runs}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    _print_table(runs)
    print(f"target ≤ {TARGET_SECONDS:.0f} s on DuckDB (lead + account): "
          f"{'met' if met else 'NOT met' if met is not None else 'not measured'}; "
          f"results in {RESULTS.relative_to(ROOT)}")
    return 0 if met in (True, None) else 1


def _fresh_run(engine: str, source: Synthetic | dict[str, pa.Table], label: str,
               args: Any) -> dict[str, Any]:
    from revloop.store import connect

    key = (f"v{VERSION}_{args.accounts}_{args.people}_{args.opportunities}_{args.touchpoints}"
           f"_{args.seed}")
    print(f"{engine}: {label}", flush=True)
    if engine == "duckdb" and isinstance(source, Synthetic):
        CACHE.mkdir(parents=True, exist_ok=True)
        path = CACHE / f"funnel_{key}.duckdb"
        store = connect(f"duckdb:///{path}")
        try:
            if not _has_data(store):
                fill(store, source)
            return {"store": str(path), "data": label, **bench_store(store, args.repeat)}
        finally:
            store.close()
    if engine == "duckdb":
        with tempfile.TemporaryDirectory(prefix="revloop-bench-") as tmp:
            store = connect(f"duckdb:///{tmp}/copy.duckdb")
            try:
                fill(store, source)
                return {"store": "duckdb (fresh)", "data": label,
                        **bench_store(store, args.repeat)}
            finally:
                store.close()
    if engine == "postgres":
        import psycopg

        name = f"revloop_bench_funnel_{os.getpid()}"
        admin = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
        with psycopg.connect(**admin, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}".encode())
        try:
            store = connect(f"postgresql://postgres@127.0.0.1:5432/{name}")
            try:
                fill(store, source)
                with store.con.transaction():
                    store.con.execute(b"ANALYZE")
                return {"store": "postgres", "data": label,
                        **bench_store(store, args.repeat)}
            finally:
                store.close()
        finally:
            with psycopg.connect(**admin, autocommit=True) as con:
                con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())
    with tempfile.TemporaryDirectory(prefix="revloop-bench-spark-") as tmp:
        store = connect(f"spark://local?warehouse={tmp}/wh-{uuid.uuid4().hex[:6]}")
        try:
            fill(store, source)
            return {"store": "spark local[2]", "data": label,
                    **bench_store(store, args.repeat)}
        finally:
            store.close()


def _print_table(runs: list[dict[str, Any]]) -> None:
    print()
    print(f"{'engine':<10} {'level':<9} {'journeys':>10} {'best s':>8} {'median s':>9}")
    for r in runs:
        for level, v in r["levels"].items():
            print(f"{r['engine']:<10} {level:<9} {v['journeys']:>10,} {v['best_s']:>8.2f} "
                  f"{v['median_s']:>9.2f}")
        print(f"{r['engine']:<10} {'total':<9} {'':>10} {r['total_best_s']:>8.2f}")


if __name__ == "__main__":
    sys.exit(main())
