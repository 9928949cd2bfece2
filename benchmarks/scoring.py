"""Scoring benchmark: point-in-time features + apply, training, rule scores, on an SF1 company.

    .venv/bin/python benchmarks/scoring.py [--db URL] [--accounts 30000]
                                           [--contacts-per-account 10] [--evaluate]

* ``--db URL``: a store that already holds a company (e.g. the generator's SF1:
  ``revloop generate --scale 1 --seed 1 --out DIR --db URL``), imported and built.
* Without ``--db``, the script synthesises an SF1-sized company itself — 30k accounts,
  ~300k contacts, ~10M touchpoints over two years, intent signals, technographics and
  opportunities with planted in-market windows (the generator of
  ``tests/analytics/scoring/world.py``) — imports it through the canonical importer into a
  DuckDB store cached in ``benchmarks/.data/scoring/`` and builds the model (once; later runs
  reuse it).
* Each phase runs in a child process, so the peak RSS reported is that phase's own:
  ``train`` (the four account models on monthly snapshots: feature queries and fitting timed
  apart), ``apply`` (point-in-time features at the as-of date for every account + the four
  models' probabilities, scores, buckets, top-3 reasons, buying stage and 6QA, written to
  ``account_scores``), ``features`` (the feature query alone) and ``rules`` (rule-based lead
  scores of every contact with ``examples/scoring.yaml``, log stored).
* ``--evaluate`` also runs the out-of-time backtest against the MQL baseline (and the truth
  tables when the store has them): the 6QA / MQL opportunity-rate ratio and in-market AUC.
* Targets: features + apply ≤ 30 s; training ≤ 60 s. Results go to
  ``benchmarks/results/scoring.json``; the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the world generator lives with the tests
CACHE = ROOT / "benchmarks" / ".data" / "scoring"
RESULTS = ROOT / "benchmarks" / "results" / "scoring.json"
RULES = ROOT / "examples" / "scoring.yaml"
WORLD_VERSION = 1  # bump when the synthetic world changes, to rebuild the cached store
TARGETS = {"features_apply": 30.0, "train": 60.0}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _emit(doc: dict[str, Any]) -> None:
    doc["peak_rss_mb"] = round(_peak_mb(), 1)
    sys.stdout.write("\n@@RESULT " + json.dumps(doc, default=str) + "\n")


# ----------------------------------------------------------------------------- phases

def phase_build(args: argparse.Namespace) -> None:
    from tests.analytics.scoring.world import WorldSize, build_world

    from revloop import facade

    started = time.perf_counter()
    world = build_world(WorldSize(
        accounts=args.accounts, contacts_per_account=args.contacts_per_account, days=730,
        background_touches_per_contact_month=args.background_rate, seed=args.seed))
    generated = time.perf_counter() - started
    files = world.write(CACHE / "files")
    store = facade.open_store(args.db)
    t = time.perf_counter()
    result = facade.import_files(store, "canonical", files)
    imported = time.perf_counter() - t
    t = time.perf_counter()
    counts = facade.build_model(store)
    built = time.perf_counter() - t
    for name, table in world.truth.items():
        store.write_arrow(name, table)
    store.close()
    _emit({"phase": "build", "generate_s": generated, "import_s": imported, "build_s": built,
           "reconciles": result.reconciles, "marts": counts})


def phase_train(args: argparse.Namespace) -> None:
    from revloop import facade
    from revloop.analytics.scoring.asof import data_start
    from revloop.analytics.scoring.features_account import plan_account_features
    from revloop.analytics.scoring.model_store import save_model
    from revloop.analytics.scoring.training import (
        AccountOptions,
        account_frame,
        default_cutoff,
        train_account_models,
        training_snapshots,
    )

    store = facade.open_store(args.db)
    options = AccountOptions()
    started = time.perf_counter()
    plan = plan_account_features(store)
    cutoff = default_cutoff(store)
    start = data_start(store)
    assert start is not None
    snaps = training_snapshots(start, cutoff, options, store.count("accounts"))
    frame = account_frame(store, plan, snaps, options)
    features_s = time.perf_counter() - started
    t = time.perf_counter()
    models = train_account_models(store, cutoff, options, plan=plan, frame=frame)
    fit_s = time.perf_counter() - t
    for model in models.values():
        save_model(store, model.name, model.card, model.payload())
    total = time.perf_counter() - started
    store.close()
    _emit({"phase": "train", "seconds": total, "features_s": features_s, "fit_s": fit_s,
           "snapshots": len(snaps), "rows": len(frame),
           "auc_out_of_fold": {n: m.card["metrics_out_of_fold"]["auc"]
                               for n, m in models.items()}})


def phase_features(args: argparse.Namespace) -> None:
    from revloop import facade
    from revloop.analytics.scoring.asof import default_as_of
    from revloop.analytics.scoring.features_account import (
        account_feature_query,
        plan_account_features,
    )

    store = facade.open_store(args.db)
    as_of = default_as_of(store)
    plan = plan_account_features(store)
    t = time.perf_counter()
    frame = account_feature_query(store, plan, as_of).fetch()
    seconds = time.perf_counter() - t
    store.close()
    _emit({"phase": "features", "seconds": seconds, "accounts": len(frame),
           "features": frame.shape[1] - 3, "as_of": as_of.isoformat()})


def phase_apply(args: argparse.Namespace) -> None:
    from revloop import facade
    from revloop.facade import scoring

    store = facade.open_store(args.db)
    t = time.perf_counter()
    result = scoring.apply(store, scoring.ApplyRequest(models=["accounts"], rules=RULES))
    seconds = time.perf_counter() - t
    store.close()
    acc = result.accounts
    assert acc is not None
    _emit({"phase": "features_apply", "seconds": seconds, "accounts": acc.rows,
           "6qa": acc.six_qa, "stages": acc.buying_stages})


def phase_rules(args: argparse.Namespace) -> None:
    from revloop import facade
    from revloop.facade import scoring

    store = facade.open_store(args.db)
    t = time.perf_counter()
    result = scoring.run_rules(store, scoring.RulesRequest(rules=RULES))
    seconds = time.perf_counter() - t
    store.close()
    _emit({"phase": "rules", "seconds": seconds, "contacts": result.contacts,
           "mqls": result.mqls, "rule_firings": result.events})


def phase_evaluate(args: argparse.Namespace) -> None:
    from revloop import facade
    from revloop.facade import scoring

    store = facade.open_store(args.db)
    t = time.perf_counter()
    result = scoring.evaluate(store, scoring.EvaluateRequest(model="accounts", rules=RULES))
    seconds = time.perf_counter() - t
    store.close()
    in_market = next(e for e in result.to_json()["evaluations"] if e["model"] == "in_market")
    _emit({"phase": "evaluate", "seconds": seconds, "metrics": in_market["metrics"],
           "baseline": in_market["baseline"], "comparison": {
               k: in_market["comparison"].get(k) for k in (
                   "6qa", "6qa_vs_mql_rate_ratio", "recorded_mql",
                   "6qa_vs_recorded_mql_rate_ratio", "stages")},
           "truth": in_market["truth"]})


PHASES = {"build": phase_build, "train": phase_train, "features": phase_features,
          "apply": phase_apply, "rules": phase_rules, "evaluate": phase_evaluate}


# ----------------------------------------------------------------------------- driver

def _child(args: argparse.Namespace, phase: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--phase", phase, "--db", args.db,
           "--accounts", str(args.accounts),
           "--contacts-per-account", str(args.contacts_per_account),
           "--background-rate", str(args.background_rate), "--seed", str(args.seed)]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("@@RESULT "):
            doc: dict[str, Any] = json.loads(line[len("@@RESULT "):])
            return doc
    sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    raise SystemExit(f"phase {phase} failed (exit {proc.returncode})")


def _ensure_world(args: argparse.Namespace) -> dict[str, Any] | None:
    marker = CACHE / "world.json"
    wanted = {"version": WORLD_VERSION, "accounts": args.accounts,
              "contacts_per_account": args.contacts_per_account,
              "background_rate": args.background_rate, "seed": args.seed}
    store_file = CACHE / "sf1.duckdb"
    if store_file.exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    for leftover in (store_file, Path(f"{store_file}.wal")):
        leftover.unlink(missing_ok=True)
    doc = _child(args, "build")
    marker.write_text(json.dumps(wanted))
    return doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="store URL holding a built company (default: synthesise "
                        "one in benchmarks/.data/scoring/sf1.duckdb)")
    parser.add_argument("--accounts", type=int, default=30_000)
    parser.add_argument("--contacts-per-account", type=float, default=10.0)
    parser.add_argument("--background-rate", type=float, default=0.8,
                        help="background touches per contact and month")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--evaluate", action="store_true",
                        help="also run the out-of-time backtest (6QA vs MQL, truth)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        PHASES[args.phase](args)
        return 0

    build = None
    synthetic = args.db is None
    if synthetic:
        args.db = f"duckdb:///{CACHE / 'sf1.duckdb'}"
        build = _ensure_world(args)
    phases = ["train", "features", "apply", "rules"] + (["evaluate"] if args.evaluate else [])
    results = {p: _child(args, p) for p in phases}
    from revloop import facade

    store = facade.open_store(args.db)
    sizes = {t: store.count(t) for t in ("accounts", "contacts", "touchpoints",
                                         "opportunities", "intent_signals", "technographics")}
    store.close()

    rows = [
        ("train: 4 account models", results["train"]["seconds"], TARGETS["train"],
         results["train"]["peak_rss_mb"]),
        ("  of which feature snapshots", results["train"]["features_s"], None, None),
        ("  of which fitting", results["train"]["fit_s"], None, None),
        ("point-in-time features (1 as-of)", results["features"]["seconds"], None,
         results["features"]["peak_rss_mb"]),
        ("features + apply (4 models, reasons, stage, 6QA)",
         results["apply"]["seconds"], TARGETS["features_apply"],
         results["apply"]["peak_rss_mb"]),
        ("rule scores of every contact", results["rules"]["seconds"], None,
         results["rules"]["peak_rss_mb"]),
    ]
    if "evaluate" in results:
        rows.append(("out-of-time backtest", results["evaluate"]["seconds"], None,
                     results["evaluate"]["peak_rss_mb"]))
    print(f"store: {args.db} ({'synthetic' if synthetic else 'given'}); " + ", ".join(
        f"{k} {v:,}" for k, v in sizes.items()))
    print(f"{'step':<52} {'seconds':>9} {'target':>8} {'peak RSS MB':>12}")
    ok = True
    for name, seconds, target, peak in rows:
        met = "" if target is None else f"≤ {target:.0f}"
        if target is not None and seconds > target:
            met += " MISSED"
            ok = False
        print(f"{name:<52} {seconds:>9.1f} {met:>8} "
              f"{'' if peak is None else f'{peak:,.0f}':>12}")
    if "evaluate" in results:
        ev = results["evaluate"]
        comp = ev["comparison"]
        print(f"in-market AUC {ev['metrics']['auc']:.3f}; 6QA rate / MQL-threshold rate "
              f"{comp['6qa_vs_mql_rate_ratio']}; / recorded-MQL rate "
              f"{comp.get('6qa_vs_recorded_mql_rate_ratio')}; truth: {ev['truth']}")
    doc = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version()},
        "store": args.db, "synthetic": synthetic, "sizes": sizes, "build": build,
        "results": results, "targets": TARGETS, "targets_met": ok,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
