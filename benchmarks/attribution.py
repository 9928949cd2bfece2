"""Attribution benchmark: revloop against ChannelAttribution and marketing-attribution-models.

    .venv/bin/python benchmarks/attribution.py [--journeys 1000000] [--seed 20261125]
        [--peers-venv benchmarks/.venv-peers] [--no-peers] [--no-install]
        [--store-touches 10000000] [--no-store] [--store URL]

1. **Paths, side by side.** N synthetic journeys (default 1,000,000; seeded) over 15 channels
   are aggregated into a ``path, conversions, nulls, value`` file (cached in
   ``benchmarks/.data/``). Each tool then runs in its own child process — one process tree,
   one tool at a time — that reads the file and computes its models; the parent measures each
   child's wall time and peak RSS (``os.wait4``), and the child reports its own model time.
   * revloop: first touch, last touch, linear, exact Markov order 1 and Shapley, together;
   * ChannelAttribution 2.2.5: ``markov_model(order=1, flg_pro=False)`` (a simulation);
   * marketing-attribution-models 2.1.1 (``mam``): Markov on grouped journeys.
   The peers live in a separate virtualenv (``benchmarks/.venv-peers``, created here with pip
   from PyPI unless ``--no-install``; never in ``.venv``). Targets: revloop's five models
   together ≤ ¼ of ChannelAttribution's Markov wall time, and a peak RSS ≤ its peak. Each
   tool's removal effects are compared with the exact ones (revloop's linear solve, checked
   against an exact rational solver in the tests).
2. **Journeys from a store, on DuckDB.** A synthetic store shaped like the generator's SF1
   (30k accounts, 300k contacts, 20k opportunities, 10M touchpoints over two years; cached)
   is written straight into the marts; account-level pipeline journeys are built both ways
   (``method="arrow"``: ordered rows to Arrow, paths assembled in NumPy; ``method="sql"``:
   ordered arrays aggregated in the engine) and every model runs on them. With ``--store URL``
   (a store written by ``revloop generate --scale 1 --db URL``) the same is run on the real
   SF1 company; target ≤ 30 s for all models at account level on DuckDB.

Prints a table and writes ``benchmarks/results/attribution.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / ".data"
RESULTS = ROOT / "benchmarks" / "results" / "attribution.json"
PEERS = ROOT / "benchmarks" / ".venv-peers"
PEER_PACKAGES = ["channelattribution==2.2.5", "marketing-attribution-models==2.1.1",
                 "matplotlib"]
SEED = 20_261_125
VERSION = 1  # bump when the generated data change
CHANNELS = ["paid_search", "organic_search", "paid_social", "organic_social", "email",
            "display", "events", "webinar", "content_syndication", "direct", "referral",
            "partner", "outbound_sales", "review_sites", "sales"]


# -- synthetic journeys --------------------------------------------------------------------
def make_paths(n: int, seed: int) -> Path:
    """N journeys from a seeded first-order process with channel effects, aggregated into a
    path file (cached by N and seed)."""
    out = DATA / f"attribution_paths_{n}_{seed}_v{VERSION}.csv"
    if out.exists():
        return out
    sys.path.insert(0, str(ROOT / "src"))
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from revloop.analytics.attribution.paths import Journeys, distinct_paths, path_strings

    rng = np.random.default_rng(seed)
    c = len(CHANNELS)
    start = rng.dirichlet(np.linspace(3, 0.5, c))
    trans = rng.dirichlet(np.full(c, 0.6), size=c) + np.eye(c) * 0.3
    trans /= trans.sum(axis=1, keepdims=True)
    cum = np.cumsum(trans, axis=1)
    effect = rng.normal(0.25, 0.35, size=c)
    lengths = np.minimum(1 + rng.poisson(2.2, size=n), 25).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    touches = np.empty(int(offsets[-1]), dtype=np.int32)
    prev = rng.choice(c, size=n, p=start).astype(np.int32)
    touches[offsets[:-1]] = prev
    for step in range(1, int(lengths.max())):
        alive = np.flatnonzero(lengths > step)
        u = rng.random(len(alive))
        nxt = (u[:, None] > cum[prev[alive]]).sum(axis=1).clip(0, c - 1).astype(np.int32)
        touches[offsets[alive] + step] = nxt
        prev[alive] = nxt
    jt = np.repeat(np.arange(n), lengths)
    seen = np.zeros((n, c), dtype=bool)
    seen[jt, touches] = True
    logit = -3.2 + seen @ effect + 0.05 * lengths
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    value = np.where(converted, np.round(rng.lognormal(8, 0.8, size=n), 2), 0.0)
    journeys = Journeys(tuple(CHANNELS), offsets.astype(np.int64), touches,
                        converted.astype(np.float64), (~converted).astype(np.float64), value)
    distinct, _ = distinct_paths(journeys)
    DATA.mkdir(parents=True, exist_ok=True)
    table = pa.table({"path": path_strings(distinct, ">"), "conversions": distinct.conversions,
                      "nulls": distinct.nulls, "value": np.round(distinct.value, 2)})
    tmp = out.with_suffix(".tmp")
    pacsv.write_csv(table, tmp)
    tmp.rename(out)
    return out


# -- children: each tool in its own process -------------------------------------------------
def child_revloop(paths: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    t0 = time.perf_counter()
    from revloop.analytics.attribution.heuristics import FirstTouch, LastTouch, Linear
    from revloop.analytics.attribution.markov import Markov
    from revloop.analytics.attribution.pathfile import read_path_file
    from revloop.analytics.attribution.shapley import Shapley

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    journeys, _ = read_path_file(paths)
    t_read = time.perf_counter() - t1
    t2 = time.perf_counter()
    markov = Markov(order=1)
    credits = {}
    for model in (FirstTouch(), LastTouch(), Linear(), markov, Shapley()):
        credits[model.label] = dict(zip(journeys.channels,
                                        model.fit(journeys).credits_.conversions.tolist(),
                                        strict=True))
    t_models = time.perf_counter() - t2
    return {
        "import_seconds": t_import, "read_seconds": t_read, "model_seconds": t_models,
        "rows": journeys.n_journeys, "journeys": float(journeys.conversions.sum()
                                                         + journeys.nulls.sum()),
        "removal_effects": dict(zip(journeys.channels, markov.removal_effects_.tolist(),
                                    strict=True)),
        "conversion_probability": markov.conversion_probability_,
        "credits": credits,
    }


def child_channelattribution(paths: Path) -> dict[str, Any]:
    import contextlib
    import io

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        import ChannelAttribution as ca  # prints a banner
        import pandas as pd
    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    df = pd.read_csv(paths)
    t_read = time.perf_counter() - t1
    t2 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        res = ca.markov_model(df, "path", "conversions", var_value="value", var_null="nulls",
                              order=1, sep=">", out_more=True, verbose=False, flg_pro=False)
    t_models = time.perf_counter() - t2
    re = res["removal_effects"]
    re_col = "removal_effects_conversion" if "removal_effects_conversion" in re.columns \
        else re.columns[1]
    result = res["result"]
    return {
        "import_seconds": t_import, "read_seconds": t_read, "model_seconds": t_models,
        "removal_effects": dict(zip(re["channel_name"], map(float, re[re_col]), strict=True)),
        "credits": {"markov": dict(zip(result["channel_name"],
                                       map(float, result["total_conversions"]), strict=True))},
    }


def child_mam(paths: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    import mam
    import polars as pl
    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    df = pl.read_csv(paths)
    grouped = pl.concat([
        df.filter(pl.col("conversions") > 0).select(
            "path", has_conv=pl.lit(True), weight=pl.col("conversions").cast(pl.Int64)),
        df.filter(pl.col("nulls") > 0).select(
            "path", has_conv=pl.lit(False), weight=pl.col("nulls").cast(pl.Int64)),
    ])
    t_read = time.perf_counter() - t1
    t2 = time.perf_counter()
    model = mam.MAM(grouped, format_type="grouped_journey", channels_colname="path",
                    journey_with_conv_colname="has_conv", occurrences_colname="weight",
                    path_separator=">")
    result = model.run_markov(transition_to_same_state=False)
    t_models = time.perf_counter() - t2
    re = result.metadata["removal_effect"] if hasattr(result, "metadata") else None
    if re is None:
        raise RuntimeError("mam returned no removal effects")
    return {
        "import_seconds": t_import, "read_seconds": t_read, "model_seconds": t_models,
        "removal_effects": {str(k): float(v) for k, v in re["removal_effect"].items()},
    }


CHILDREN = {"revloop": child_revloop, "channelattribution": child_channelattribution,
            "mam": child_mam}


def run_child(python: str, tool: str, paths: Path, timeout: float) -> dict[str, Any]:
    """Run one tool in a child process; its wall time, peak RSS and reported figures."""
    out = DATA / f"child_{tool}.json"
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.Popen([python, __file__, "--child", tool, str(paths), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            return {"tool": tool, "error": f"timed out after {timeout:.0f} s"}
        time.sleep(0.05)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not out.exists():
        return {"tool": tool, "error": stderr.strip().splitlines()[-1:] or ["failed"],
                "wall_seconds": wall}
    doc: dict[str, Any] = json.loads(out.read_text())
    doc.update(tool=tool, wall_seconds=wall, peak_rss_mb=usage.ru_maxrss / 1024)
    return doc


def ensure_peers(venv: Path, install: bool) -> str | None:
    """The peers' Python, creating the virtualenv with pip from PyPI when missing."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import ChannelAttribution, mam"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return str(python)
    if not install:
        return None
    print(f"creating {venv} with {', '.join(PEER_PACKAGES)} (pip, PyPI) …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES],
                   check=True)
    return str(python)


def errors(exact: dict[str, float], got: dict[str, float]) -> dict[str, float]:
    """Largest absolute error of removal effects and of the normalised shares."""
    keys = sorted(exact)
    e = np.array([exact[k] for k in keys])
    g = np.array([got.get(k, np.nan) for k in keys])
    return {"max_abs_removal_effect": float(np.nanmax(np.abs(e - g))),
            "max_abs_share": float(np.nanmax(np.abs(e / e.sum() - g / np.nansum(g))))}


# -- journeys from a store -----------------------------------------------------------------
def make_store(touches: int, seed: int) -> str:
    """A DuckDB store shaped like SF1 (marts written directly; cached)."""
    n_acc, n_con, n_opp = 30_000, 300_000, 20_000
    path = DATA / f"attribution_store_{touches}_{seed}_v{VERSION}.duckdb"
    url = f"duckdb:///{path}"
    if path.exists():
        return url
    sys.path.insert(0, str(ROOT / "src"))
    import pyarrow as pa

    from revloop.store import connect

    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    span = np.int64(730 * 86_400 * 1_000_000)

    def labels(prefix: str, n: int) -> pa.Array:
        return pa.array([f"{prefix}-{i}" for i in range(n)], pa.string())

    def coded(codes: np.ndarray[Any, Any], names: pa.Array) -> pa.Array:
        # dictionary-encoded: the store writes plain strings, NumPy never holds 10M objects
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), names)

    accounts, contacts = labels("acc", n_acc), labels("c", n_con)
    channels = pa.array(CHANNELS, pa.string())
    con_acc = rng.integers(0, n_acc, size=n_con)
    # touches: people differ in activity (lognormal), channels by the benchmark's mix
    weights = rng.lognormal(0, 1, size=n_con)
    who = rng.choice(n_con, size=touches, p=weights / weights.sum())
    ch = rng.choice(len(CHANNELS), size=touches, p=rng.dirichlet(np.full(len(CHANNELS), 2.0)))
    ts = start + (rng.random(touches) * span).astype("timedelta64[us]")
    tmp = path.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    store = connect(f"duckdb:///{tmp}")
    store.write_arrow("touchpoints", pa.table({
        "occurred_at": pa.array(ts),
        "account_id": coded(con_acc[who], accounts),
        "contact_id": coded(who, contacts),
        "touch_type": coded((ch == CHANNELS.index("email")).astype(np.int32),
                            pa.array(["visit", "email_open"])),
        "channel": coded(ch, channels),
        "campaign_id": coded(rng.integers(0, 600, touches), labels("cmp", 600)),
        "content_id": pa.nulls(touches, pa.string()),
        "properties": pa.nulls(touches, pa.string()),
    }))
    # opportunities on random accounts, created across the two years
    opp_acc = rng.integers(0, n_acc, size=n_opp)
    created = start + (rng.random(n_opp) * span * 0.9).astype("timedelta64[us]")
    close = created.astype("datetime64[D]") + rng.integers(20, 200, n_opp).astype(
        "timedelta64[D]")
    closed = close < np.datetime64("2025-12-31")
    won = closed & (rng.random(n_opp) < 0.3)
    store.write_arrow("opportunities", pa.table({
        "opportunity_id": labels("o", n_opp),
        "account_id": coded(opp_acc, accounts),
        "amount": pa.array(np.round(rng.lognormal(10, 0.7, n_opp), 2)),
        "created_at": pa.array(created), "close_date": pa.array(close),
        "is_closed": pa.array(closed), "is_won": pa.array(won),
        "source_channel": coded(rng.integers(0, len(CHANNELS), n_opp), channels),
    }))
    store.write_arrow("contacts", pa.table({
        "contact_id": contacts, "account_id": coded(con_acc, accounts),
        "created_at": pa.array(start + (rng.random(n_con) * span).astype("timedelta64[us]")),
        "converted_opportunity_id": pa.nulls(n_con, pa.string()),
    }))
    store.close()
    tmp.rename(path)
    return url


def store_runs(url: str) -> dict[str, Any]:
    """Build account-level journeys both ways and run every model, on the store at ``url``."""
    sys.path.insert(0, str(ROOT / "src"))
    from revloop.analytics.attribution.journeys import build_journeys
    from revloop.analytics.attribution.request import AttributionRequest
    from revloop.analytics.attribution.runner import run
    from revloop.store import connect

    out: dict[str, Any] = {"url": url}
    with connect(url) as store:
        out["touchpoints"] = store.count("touchpoints")
        for method in ("arrow", "sql"):
            t0 = time.perf_counter()
            try:
                built = build_journeys(store, AttributionRequest(level="account", method=method))
            except Exception as exc:  # the SQL arrays can exceed DuckDB's memory limit
                out[f"build_{method}_seconds"] = None
                out[f"build_{method}_error"] = f"{type(exc).__name__}: {str(exc)[:160]}"
                continue
            out[f"build_{method}_seconds"] = time.perf_counter() - t0
            out[f"build_{method}_phases"] = built.timings
            out["journeys"] = built.journeys.n_journeys
            out["journey_touches"] = built.journeys.n_touches
        t0 = time.perf_counter()
        result = run(store, AttributionRequest(level="account", models=("all",)))
        out["all_models_seconds"] = time.perf_counter() - t0
        out["all_models_timings"] = result.timings
        out["models"] = [m.model for m in result.models]
        out["reconciles"] = all(m.reconciles for m in result.models)
        # Spearman against truth_channel_effects, when present
        out["truth"] = result.to_json()["truth"]
    return out


# -- main -----------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--journeys", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--peers-venv", type=Path, default=PEERS)
    ap.add_argument("--no-peers", action="store_true", help="Only revloop.")
    ap.add_argument("--no-install", action="store_true",
                    help="Do not create the peers' virtualenv when missing.")
    ap.add_argument("--timeout", type=float, default=3600.0, help="Per tool, seconds.")
    ap.add_argument("--store-touches", type=int, default=10_000_000)
    ap.add_argument("--no-store", action="store_true", help="Skip the store section.")
    ap.add_argument("--store", help="Also run on this store (revloop generate --scale 1 --db …).")
    args = ap.parse_args()
    if args.child:
        tool, paths, out = args.child
        Path(out).write_text(json.dumps(CHILDREN[tool](Path(paths))))
        return 0

    paths = make_paths(args.journeys, args.seed)
    runs = [run_child(str(ROOT / ".venv" / "bin" / "python"), "revloop", paths, args.timeout)]
    peers = None if args.no_peers else ensure_peers(args.peers_venv, not args.no_install)
    if peers:
        runs.append(run_child(peers, "channelattribution", paths, args.timeout))
        runs.append(run_child(peers, "mam", paths, args.timeout))
    exact = runs[0].get("removal_effects", {})
    for r in runs:
        if "removal_effects" in r and exact:
            r["error_vs_exact"] = errors(exact, r["removal_effects"])
    report: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "journeys": args.journeys, "seed": args.seed, "paths_file": str(paths),
        "channels": len(CHANNELS), "runs": runs,
    }
    rev = runs[0]
    ca = next((r for r in runs if r["tool"] == "channelattribution"), None)
    checks: dict[str, Any] = {}
    if ca and "wall_seconds" in ca and "error" not in ca and "error" not in rev:
        # the target compares the models' wall time (revloop's five models together against
        # ChannelAttribution's markov_model call); whole-process times are reported beside
        checks = {
            "model_time_ratio": rev["model_seconds"] / ca["model_seconds"],
            "process_time_ratio": rev["wall_seconds"] / ca["wall_seconds"],
            "memory_ratio": rev["peak_rss_mb"] / ca["peak_rss_mb"],
        }
        checks["time_target_met"] = checks["model_time_ratio"] <= 0.25
        checks["memory_target_met"] = checks["memory_ratio"] <= 1.0
    report["checks"] = checks
    if not args.no_store:
        report["store_synthetic"] = store_runs(make_store(args.store_touches, args.seed))
    if args.store:
        sf1 = store_runs(args.store)
        sf1["target_met"] = sf1["all_models_seconds"] <= 30.0
        report["store_sf1"] = sf1
    else:
        report["store_sf1"] = {"not_run": "needs the generator's SF1 company: revloop "
                               "generate --scale 1 --seed 1 --out DIR --db duckdb:///sf1.duckdb"
                               ", then --store duckdb:///sf1.duckdb"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, default=str) + "\n")
    _print(report)
    failed = (checks and not (checks["time_target_met"] and checks["memory_target_met"])) or \
        not math.isfinite(rev.get("wall_seconds", float("nan")))
    return 1 if failed else 0


def _print(report: dict[str, Any]) -> None:
    print(f"\n{report['journeys']:,} journeys over {report['channels']} channels "
          f"({report['runs'][0].get('rows', 0):,} distinct paths)")
    head = (f"{'tool':<20}{'wall s':>9}{'model s':>9}{'peak MB':>9}"
            f"{'max |ΔRE|':>12}{'max |Δshare|':>14}")
    print(head)
    print("-" * len(head))
    for r in report["runs"]:
        if "error" in r:
            print(f"{r['tool']:<20}error: {r['error']}")
            continue
        err = r.get("error_vs_exact", {})
        print(f"{r['tool']:<20}{r['wall_seconds']:>9.2f}{r['model_seconds']:>9.2f}"
              f"{r['peak_rss_mb']:>9.0f}{err.get('max_abs_removal_effect', 0):>12.2e}"
              f"{err.get('max_abs_share', 0):>14.2e}")
    c = report["checks"]
    if c:
        print(f"revloop's five models / ChannelAttribution's Markov: {c['model_time_ratio']:.3f}"
              f" (target ≤ 0.25: {'met' if c['time_target_met'] else 'NOT met'}); peak RSS "
              f"{c['memory_ratio']:.2f} (target ≤ 1: "
              f"{'met' if c['memory_target_met'] else 'NOT met'}); whole processes (start, "
              f"imports, reading the file) {c['process_time_ratio']:.3f}")
    for key in ("store_synthetic", "store_sf1"):
        s = report.get(key)
        if not s:
            continue
        if "not_run" in s:
            print(f"{key}: not run — {s['not_run']}")
            continue
        target = ""
        if "target_met" in s:
            target = f" (target ≤ 30 s: {'met' if s['target_met'] else 'NOT met'})"
        sql = (f"{s['build_sql_seconds']:.1f} s" if s.get("build_sql_seconds") is not None
               else f"failed ({s.get('build_sql_error', '')[:60]})")
        print(f"{key}: {s['touchpoints']:,} touchpoints → {s['journeys']:,} account journeys "
              f"({s['journey_touches']:,} touches); build arrow {s['build_arrow_seconds']:.1f} s"
              f", sql {sql}; all {len(s['models'])} models {s['all_models_seconds']:.1f} s"
              f"{target}")
        if s.get("truth"):
            print("  truth recovery (Spearman): " + ", ".join(
                f"{k} {v:.2f}" if v is not None else f"{k} —"
                for k, v in s["truth"]["spearman"].items()))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
