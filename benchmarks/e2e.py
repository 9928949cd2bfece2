"""End-to-end benchmark: the user's whole path through the ``revloop`` CLI, one process a step.

    .venv/bin/python benchmarks/e2e.py [--scales 0.1,1] [--repeat N]
                                       [--engine duckdb|postgres|spark]
                                       [--steps import,build,funnel,attribute,score] [--keep]

* For each scale the generator's company is written once to Parquet files
  (``revloop generate --scale S --seed 1 --out DIR --format parquet``), cached in
  ``benchmarks/.data/e2e/sf<S>/`` and reused while its ``manifest.json`` says the same scale,
  seed and format.
* Each repeat starts from a fresh, empty store (DuckDB: a new file under
  ``benchmarks/.data/e2e/stores/``; PostgreSQL: a new database ``revloop_e2e_sf<S>_r<i>`` on
  ``postgresql://postgres@127.0.0.1:5432`` with trust auth, dropped afterwards; Spark:
  ``spark://local?warehouse=<new folder>``, run with ``SPARK_LOCAL_IP=127.0.0.1``) and runs
  these commands, each a separate ``revloop`` process (the console script beside
  ``sys.executable``), in text mode as a user would, from an empty working folder (so no
  stray ``revloop.toml`` or ``scoring.yaml`` is picked up):

      revloop --db URL import canonical DIR/*.parquet      (import)
      revloop --db URL build                               (build)
      revloop --db URL funnel --level lead                 (funnel-lead)
      revloop --db URL funnel --level account              (funnel-account)
      revloop --db URL attribute --level account --model all   (attribute)
      revloop --db URL score train                         (score-train: all models)
      revloop --db URL score apply                         (score-apply)

  ``--db`` is the CLI's global option, so it comes before the command. The import takes the
  company's files — the top-level ``*.parquet`` of the folder, in name order, as a shell glob
  gives them. The ground-truth files in ``DIR/truth/`` are not imported: the canonical
  importer refuses them (``unknown_object``, exit code 4); ``revloop generate --db`` stores
  them beside the model itself, which is not part of a user's import.
* ``--steps`` picks the steps reported (names above, or ``funnel`` / ``score`` for both of a
  pair); steps they need (import before build, build before the analytics, score train before
  score apply) still run and are recorded in the JSON, but stay out of the table and total.
* Time is each command's wall time, from spawn to exit — what a user waits for, Python start-up
  and imports included. Peak RSS is the command's own high-water mark: each command is spawned
  by a tiny wrapper process that reads ``ru_maxrss`` from ``os.wait4``. The wrapper is there
  because Linux hands a parent's high-water mark to a child through fork/exec, so measuring
  from this (larger) driver would report at least the driver's own peak; the wrapper's ~10 MB
  is the floor of the figure instead. The wrapper is also a child subreaper, so processes the
  command leaves running when it exits (Spark's JVM, which pyspark does not wait for) are
  reaped by it and count too — in the peak, not in the time. The figure is the largest single
  process of the command's tree (for Spark, the JVM and the Python driver are not summed);
  PostgreSQL's server is not included.
* Rows/s: import — rows in the files (Parquet metadata); build — rows of the marts after the
  build (``revloop status --json``, run untimed after it); funnel, attribute and score —
  touchpoints in the store.
* Floors (DuckDB only; "—" for other engines), measured in the same run, each in its own
  process, timing the SQL plus the final close (checkpoint), with revloop's DuckDB settings
  (``memory_limit`` 2 GB, ``preserve_insertion_order = false``, default threads):
  import — a plain DuckDB session on a new database file running
  ``CREATE TABLE t AS SELECT * FROM read_parquet('file')`` for every imported file; build —
  "CTAS of the raw tables": one ``CREATE TABLE … AS SELECT * FROM raw_x`` per ``raw_*`` table
  of the built store (attached read-only) into a new database file, i.e. the cost of moving
  the raw data once. Ratio = the step's best time / the floor's best time.
* The table has one row per scale and step: min and median seconds over the repeats, peak
  RSS (max over repeats), rows/s (rows / min s), floor s (min) and ratio; and per scale a
  total row (the sum of the reported steps in each repeat).
* Growth (when several scales ran), between consecutive scales s0 < s1 with k = s1 / s0: the
  seconds per unit of scale (median s / scale) at both, the time ratio r = t1 / t0, and a
  flag when r > k · ln(k · n0) / ln(n0), n0 being the step's rows at s0 — the growth of
  n log n. Fixed start-up cost makes small scales look sub-linear, so a flag is a strong
  signal and its absence at tiny scales says little.
* Logs of every command (stdout and stderr): ``benchmarks/.data/e2e/logs/``. A command that
  exits non-zero stops the run with the step and its log named. ``--keep`` keeps the stores
  (DuckDB files, Spark warehouses, PostgreSQL databases). Results go to
  ``benchmarks/results/e2e.json`` with the machine's facts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import itertools
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / ".data" / "e2e"
LOGS = DATA / "logs"
STORES = DATA / "stores"
RESULTS = ROOT / "benchmarks" / "results" / "e2e.json"
REVLOOP = Path(sys.executable).with_name("revloop")
SEED = 1
ENGINES = ("duckdb", "postgres", "spark")
PG_ADMIN: dict[str, Any] = {
    "host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres",
}

# Spawns the command, waits with os.wait4 and writes its wall time, exit code and ru_maxrss.
# It runs as its own small process so that the command's ru_maxrss is not raised to this
# driver's high-water mark (Linux carries it into a child through fork/exec). It is also a
# child subreaper: processes the command leaves behind (Spark's JVM, which pyspark never
# waits for) are reparented to it and reaped, so their peak counts too.
WRAPPER = r"""
import ctypes, json, os, resource, shlex, subprocess, sys, time
out, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
try:
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
except (OSError, AttributeError):
    pass
with open(log, "wb") as f:
    f.write(("$ " + shlex.join(cmd) + "\n").encode())
    f.flush()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
orphans, deadline = 0, time.monotonic() + 120
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid:
        orphans += 1
    elif time.monotonic() > deadline:
        break
    else:
        time.sleep(0.05)
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "w") as f:
    json.dump({"seconds": seconds, "exit_code": os.waitstatus_to_exitcode(status),
               "maxrss_kib": max(usage.ru_maxrss, children), "command_maxrss_kib":
               usage.ru_maxrss, "orphans_reaped": orphans}, f)
"""

# A plain DuckDB session with revloop's settings: CTAS of every Parquet file (import) or of
# every raw_* table of a built store (build). Prints seconds, tables and rows as JSON.
FLOOR = r"""
import json, sys, time
import duckdb
try:
    from revloop.store.duckdb_store import DEFAULT_MEMORY_LIMIT
except ImportError:
    DEFAULT_MEMORY_LIMIT = "2GB"
kind, target, sources = sys.argv[1], sys.argv[2], sys.argv[3:]

def lit(text):
    return "'" + text.replace("'", "''") + "'"

started = time.perf_counter()
con = duckdb.connect(target)
con.execute("SET memory_limit = ?", [DEFAULT_MEMORY_LIMIT])
con.execute("SET preserve_insertion_order = false")
rows = 0
if kind == "import":
    tables = [f"t{i}" for i in range(len(sources))]
    for name, path in zip(tables, sources):
        rows += con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_parquet({lit(path)})").fetchone()[0]
else:
    con.execute(f"ATTACH {lit(sources[0])} AS src (READ_ONLY)")
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' "
        "AND schema_name = 'main' AND starts_with(table_name, 'raw_') ORDER BY 1").fetchall()]
    for name in tables:
        rows += con.execute(
            f'CREATE TABLE "{name}" AS SELECT * FROM src.main."{name}"').fetchone()[0]
con.close()
print(json.dumps({"seconds": time.perf_counter() - started, "tables": len(tables),
                  "rows": rows}))
"""


@dataclass(frozen=True)
class Step:
    """One CLI command of the user's path."""

    key: str
    label: str
    args: tuple[str, ...]  # after ``revloop --db URL``
    needs: str | None  # the step that must have run before, in the same store
    rows: str  # what its rows/s counts: "files", "marts" or "touchpoints"


STEPS: tuple[Step, ...] = (
    Step("import", "import", ("import", "canonical"), None, "files"),
    Step("build", "build", ("build",), "import", "marts"),
    Step("funnel-lead", "funnel --level lead", ("funnel", "--level", "lead"), "build",
         "touchpoints"),
    Step("funnel-account", "funnel --level account", ("funnel", "--level", "account"), "build",
         "touchpoints"),
    Step("attribute", "attribute --level account -m all",
         ("attribute", "--level", "account", "--model", "all"), "build", "touchpoints"),
    Step("score-train", "score train", ("score", "train"), "build", "touchpoints"),
    Step("score-apply", "score apply", ("score", "apply"), "score-train", "touchpoints"),
)
STEP_BY_KEY = {s.key: s for s in STEPS}
ALIASES: dict[str, tuple[str, ...]] = {
    "funnel": ("funnel-lead", "funnel-account"),
    "score": ("score-train", "score-apply"),
    "all": tuple(STEP_BY_KEY),
}
FLOOR_NAMES = {"import": "CTAS from read_parquet of every file",
               "build": "CTAS of the raw tables"}


class StepFailed(Exception):
    """A command of the path exited non-zero."""


@dataclass
class Measure:
    """One command's wall time, exit code and peak RSS."""

    seconds: float
    exit_code: int
    peak_rss_mb: float
    log: Path
    orphans_reaped: int = 0


@dataclass
class Repeat:
    """What one repeat (one fresh store) measured."""

    steps: dict[str, Measure] = field(default_factory=dict)
    floors: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)


# -- running commands ---------------------------------------------------------------------------

def child_env(engine: str) -> dict[str, str]:
    """The environment of the commands: the current one, plus a loopback address for Spark."""
    env = dict(os.environ)
    if engine == "spark":
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env


def run_wrapped(cmd: list[str], log: Path, cwd: Path, env: dict[str, str]) -> Measure:
    """Run ``cmd`` through the wrapper, output to ``log``; its time, exit code and peak RSS."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.with_suffix(".measure.json")
    out.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-c", WRAPPER, str(out), str(log), *cmd], cwd=cwd, env=env,
                   check=True)
    doc = json.loads(out.read_text())
    out.unlink()
    return Measure(seconds=doc["seconds"], exit_code=doc["exit_code"],
                   peak_rss_mb=doc["maxrss_kib"] / 1024, log=log,
                   orphans_reaped=doc["orphans_reaped"])


def _tail(log: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of ``log``."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def check(measure: Measure, what: str) -> Measure:
    """``measure``, or :class:`StepFailed` naming ``what`` and the log when it failed."""
    if measure.exit_code != 0:
        raise StepFailed(f"{what} exited with status {measure.exit_code}; log: "
                         f"{measure.log}\n--- last lines of the log ---\n{_tail(measure.log)}")
    return measure


def revloop_json(url: str, args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """``revloop --db URL <args> --json``, untimed; its JSON document."""
    proc = subprocess.run([str(REVLOOP), "--db", url, *args, "--json"], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StepFailed(f"revloop {' '.join(args)} --json exited with status "
                         f"{proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def run_floor(kind: str, target: Path, sources: list[Path]) -> dict[str, Any]:
    """The DuckDB floor of ``kind`` ("import" or "build") into a new file ``target``."""
    target.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", FLOOR, kind, str(target),
                           *map(str, sources)], capture_output=True, text=True, check=False)
    for p in (target, target.with_name(target.name + ".wal")):
        p.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise StepFailed(f"the {kind} floor failed (exit {proc.returncode}):\n"
                         f"{proc.stderr[-3000:]}")
    doc: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    doc["name"] = FLOOR_NAMES[kind]
    return doc


# -- the company and the stores -----------------------------------------------------------------

def scale_tag(scale: float) -> str:
    """``sf0.01``, ``sf1``, … as used in folder and database names."""
    return f"sf{scale:g}"


def _cached(folder: Path, scale: float) -> bool:
    """Whether ``folder`` holds the complete company of ``scale`` (seed, Parquet)."""
    try:
        config = json.loads((folder / "manifest.json").read_text())["config"]
    except (OSError, ValueError, KeyError):
        return False
    return (math.isclose(float(config.get("scale", -1)), scale) and config.get("seed") == SEED
            and config.get("format") == "parquet")


def ensure_company(scale: float) -> tuple[Path, Measure | None]:
    """The folder of the company at ``scale``, generated once (None: it was cached)."""
    folder = DATA / scale_tag(scale)
    if _cached(folder, scale):
        return folder, None
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    print(f"generating the company at scale {scale:g} in {folder.relative_to(ROOT)} …",
          flush=True)
    measure = check(run_wrapped(
        [str(REVLOOP), "generate", "--scale", f"{scale:g}", "--seed", str(SEED),
         "--out", str(partial), "--format", "parquet"],
        LOGS / f"generate-{scale_tag(scale)}.log", ROOT, child_env("duckdb")),
        f"revloop generate --scale {scale:g}")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    print(f"  generated in {measure.seconds:.1f} s, peak RSS {measure.peak_rss_mb:,.0f} MB",
          flush=True)
    return folder, measure


def company_files(folder: Path) -> list[Path]:
    """The company's canonical files: the top-level Parquet files, in name order."""
    return sorted(folder.glob("*.parquet"))


def _pg_execute(sql: str) -> None:
    """Run one statement on the PostgreSQL server's maintenance database."""
    import psycopg

    with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
        con.execute(sql.encode())


@contextmanager
def fresh_store(engine: str, tag: str, keep: bool) -> Iterator[tuple[str, Path]]:
    """The URL of a new, empty store and an empty working folder; both removed afterwards
    unless ``keep``."""
    workdir = STORES / f"{engine}-{tag}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    database = "revloop_e2e_" + re.sub(r"\W", "_", tag)
    if engine == "duckdb":
        url = f"duckdb:///{workdir / 'store.duckdb'}"
    elif engine == "postgres":
        _pg_execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        _pg_execute(f"CREATE DATABASE {database}")
        url = (f"postgresql://{PG_ADMIN['user']}@{PG_ADMIN['host']}:{PG_ADMIN['port']}/"
               f"{database}")
    else:
        url = f"spark://local?warehouse={workdir / 'warehouse'}"
    try:
        yield url, workdir
    finally:
        if keep:
            print(f"  kept: {url}", flush=True)
        else:
            if engine == "postgres":
                _pg_execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            shutil.rmtree(workdir, ignore_errors=True)


# -- one repeat -------------------------------------------------------------------------------

def steps_to_run(selected: list[str]) -> list[Step]:
    """The selected steps and the steps they need, in the path's order."""
    needed = set(selected)
    for key in selected:
        step: Step | None = STEP_BY_KEY[key]
        while step is not None and step.needs is not None:
            needed.add(step.needs)
            step = STEP_BY_KEY[step.needs]
    return [s for s in STEPS if s.key in needed]


def run_repeat(engine: str, scale: float, index: int, files: list[Path],
               selected: list[str], keep: bool) -> Repeat:
    """Every needed step of the path, in a fresh store, each a separate process."""
    rep = Repeat()
    env = child_env(engine)
    tag = f"{scale_tag(scale)}_r{index + 1}"
    with fresh_store(engine, tag, keep) as (url, workdir):
        for step in steps_to_run(selected):
            args = [*step.args, *map(str, files)] if step.key == "import" else list(step.args)
            log = LOGS / f"{engine}-{tag}-{step.key}.log"
            what = f"step {step.key} (revloop {' '.join(step.args)}) at scale {scale:g}, " \
                   f"repeat {index + 1}"
            measure = check(run_wrapped([str(REVLOOP), "--db", url, *args], log, workdir, env),
                            what)
            rep.steps[step.key] = measure
            print(f"  repeat {index + 1}: {step.key:<15} {measure.seconds:8.2f} s "
                  f"{measure.peak_rss_mb:8,.0f} MB", flush=True)
            if step.key == "build":
                rep.status = revloop_json(url, ["status"], workdir, env)
            if engine == "duckdb" and step.key in ("import", "build") and step.key in selected:
                sources = files if step.key == "import" else [workdir / "store.duckdb"]
                rep.floors[step.key] = run_floor(step.key, workdir / f"floor-{step.key}.duckdb",
                                                 sources)
                print(f"  repeat {index + 1}: {'floor':<15} "
                      f"{rep.floors[step.key]['seconds']:8.2f} s  ({FLOOR_NAMES[step.key]})",
                      flush=True)
    return rep


# -- summaries ----------------------------------------------------------------------------------

def step_rows(step: Step, file_rows: int, status: dict[str, Any]) -> int | None:
    """Rows the step moves: the files' rows, the marts' rows or the store's touchpoints."""
    marts: dict[str, int] = status.get("marts", {})
    if step.rows == "files":
        return file_rows
    if not marts:
        return None
    if step.rows == "marts":
        return sum(marts.values())
    return marts.get("touchpoints")


def summarise(scale: float, steps: list[Step], repeats: list[Repeat],
              file_rows: int) -> list[dict[str, Any]]:
    """One row per reported step and a total row, over the repeats of one scale."""
    status = next((r.status for r in repeats if r.status), {})
    rows: list[dict[str, Any]] = []
    for step in steps:
        times = [r.steps[step.key].seconds for r in repeats]
        floors = [r.floors[step.key]["seconds"] for r in repeats if step.key in r.floors]
        n = step_rows(step, file_rows, status)
        best = min(times)
        rows.append({
            "scale": scale, "step": step.key, "command": step.label,
            "min_s": round(best, 3), "median_s": round(statistics.median(times), 3),
            "peak_rss_mb": round(max(r.steps[step.key].peak_rss_mb for r in repeats), 1),
            "rows": n, "rows_per_s": None if n is None else round(n / best),
            "floor": FLOOR_NAMES.get(step.key) if floors else None,
            "floor_s": round(min(floors), 3) if floors else None,
            "ratio": round(best / min(floors), 2) if floors else None,
            "seconds": [round(t, 3) for t in times],
        })
    totals = [sum(r.steps[s.key].seconds for s in steps) for r in repeats]
    rows.append({
        "scale": scale, "step": "total", "command": "total (" + "+".join(
            dict.fromkeys(s.key.split("-")[0] for s in steps)) + ")",
        "min_s": round(min(totals), 3), "median_s": round(statistics.median(totals), 3),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rows), 1),
        "rows": file_rows, "rows_per_s": None, "floor": None, "floor_s": None, "ratio": None,
        "seconds": [round(t, 3) for t in totals],
    })
    return rows


def nlogn_bound(k: float, n0: int) -> float | None:
    """The time ratio n log n allows when n grows ``k``-fold from ``n0`` (None: n0 too small)."""
    if n0 < 2:
        return None
    return k * math.log(k * n0) / math.log(n0)


def growth(summaries: dict[float, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Seconds per unit of scale between consecutive scales, flagged beyond n log n."""
    out: list[dict[str, Any]] = []
    scales = sorted(summaries)
    for s0, s1 in itertools.pairwise(scales):
        k = s1 / s0
        later = {r["step"]: r for r in summaries[s1]}
        for r0 in summaries[s0]:
            r1 = later.get(r0["step"])
            if r1 is None or r0["median_s"] <= 0:
                continue
            ratio = r1["median_s"] / r0["median_s"]
            bound = nlogn_bound(k, r0["rows"] or 0)
            out.append({
                "step": r0["step"], "from_scale": s0, "to_scale": s1, "scale_ratio": k,
                "s_per_scale_from": round(r0["median_s"] / s0, 3),
                "s_per_scale_to": round(r1["median_s"] / s1, 3),
                "time_ratio": round(ratio, 3),
                "nlogn_bound": None if bound is None else round(bound, 3),
                "faster_than_nlogn": bound is not None and ratio > bound,
            })
    return out


# -- report -------------------------------------------------------------------------------------

def _num(value: float | None, fmt: str) -> str:
    """``value`` formatted, or an em dash when there is none."""
    return "—" if value is None else format(value, fmt)


def print_table(rows: list[dict[str, Any]], engine: str) -> None:
    """The main table: one line per scale and step, and the totals."""
    head = (f"{'scale':>6}  {'step':<44} {'min s':>8} {'median s':>9} {'peak RSS MB':>12} "
            f"{'rows/s':>12} {'floor s':>8} {'ratio':>7}")
    print(f"\nEnd-to-end path on {engine} (wall time of each revloop process)")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['scale']:>6g}  {r['command']:<44} {r['min_s']:>8.2f} {r['median_s']:>9.2f} "
              f"{r['peak_rss_mb']:>12,.0f} {_num(r['rows_per_s'], ',d'):>12} "
              f"{_num(r['floor_s'], '.2f'):>8} {_num(r['ratio'], '.1f'):>7}")
    print("floors (DuckDB only): import = " + FLOOR_NAMES["import"] + " in a plain DuckDB "
          "session; build = " + FLOOR_NAMES["build"] + " of the built store into a new file. "
          "rows/s and ratio use the best of the repeats.")


def print_growth(rows: list[dict[str, Any]]) -> None:
    """Seconds per unit of scale between consecutive scales, with the n log n flag."""
    if not rows:
        return
    head = (f"{'step':<16} {'scales':>12} {'s/SF before':>12} {'s/SF after':>11} "
            f"{'time ×':>8} {'n log n ×':>10}  flag")
    print("\nGrowth between consecutive scales (median s per unit of scale)")
    print(head)
    print("-" * len(head))
    for g in rows:
        flag = "grows faster than n log n" if g["faster_than_nlogn"] else ""
        print(f"{g['step']:<16} {g['from_scale']:>5g} → {g['to_scale']:<4g} "
              f"{g['s_per_scale_from']:>12.2f} {g['s_per_scale_to']:>11.2f} "
              f"{g['time_ratio']:>8.2f} {_num(g['nlogn_bound'], '.2f'):>10}  {flag}")


def engine_version(engine: str) -> str:
    """The version of the engine the store runs on."""
    if engine == "duckdb":
        return "duckdb " + importlib.metadata.version("duckdb")
    if engine == "spark":
        return "pyspark " + importlib.metadata.version("pyspark")
    import psycopg

    with psycopg.connect(**PG_ADMIN) as con:
        row = con.execute(b"SHOW server_version").fetchone()
    return f"postgresql {str(row[0]).split()[0] if row else '?'}"


def machine() -> dict[str, Any]:
    """Facts about the machine and the software measured."""
    return {
        "platform": platform.platform(), "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "revloop": importlib.metadata.version("revloop"),
        "pyarrow": importlib.metadata.version("pyarrow"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# -- driver -------------------------------------------------------------------------------------

def parse_steps(text: str) -> list[str]:
    """Step keys from a comma list of step names and aliases, in the path's order."""
    wanted: set[str] = set()
    for name in (t.strip() for t in text.split(",") if t.strip()):
        if name in ALIASES:
            wanted.update(ALIASES[name])
        elif name in STEP_BY_KEY:
            wanted.add(name)
        else:
            raise argparse.ArgumentTypeError(
                f"unknown step {name!r}; use {', '.join([*STEP_BY_KEY, *ALIASES])}")
    if not wanted:
        raise argparse.ArgumentTypeError("no step selected")
    return [key for key in STEP_BY_KEY if key in wanted]


def parse_scales(text: str) -> list[float]:
    """Positive scales from a comma list, ascending, without duplicates."""
    try:
        scales = sorted({float(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"scales must be numbers: {text!r}") from None
    if not scales or scales[0] <= 0:
        raise argparse.ArgumentTypeError("scales must be positive")
    return scales


def run_scale(args: argparse.Namespace, scale: float) -> dict[str, Any]:
    """Generate (or reuse) the company at ``scale`` and run every repeat on it."""
    folder, generated = ensure_company(scale)
    files = company_files(folder)
    file_rows = {p.stem: pq.read_metadata(p).num_rows for p in files}
    repeat = args.repeat if args.repeat is not None else (3 if scale <= 1 else 1)
    print(f"scale {scale:g}: {len(files)} files, {sum(file_rows.values()):,} rows, "
          f"{repeat} repeat(s) on {args.engine}", flush=True)
    repeats = [run_repeat(args.engine, scale, i, files, args.steps, args.keep)
               for i in range(repeat)]
    reported = [STEP_BY_KEY[k] for k in args.steps]
    summary = summarise(scale, reported, repeats, sum(file_rows.values()))
    return {
        "scale": scale, "folder": str(folder.relative_to(ROOT)), "repeat": repeat,
        "files": file_rows,
        "generate": None if generated is None else {
            "seconds": round(generated.seconds, 2),
            "peak_rss_mb": round(generated.peak_rss_mb, 1)},
        "status_after_build": next((r.status for r in repeats if r.status), None),
        "repeats": [{
            "steps": {k: {"seconds": round(m.seconds, 3), "peak_rss_mb": round(m.peak_rss_mb, 1),
                          "reported": k in args.steps, "orphans_reaped": m.orphans_reaped,
                          "log": str(m.log.relative_to(ROOT))}
                      for k, m in r.steps.items()},
            "floors": r.floors} for r in repeats],
        "summary": summary,
    }


def main() -> int:
    """Parse the options, run every scale, print the tables and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=parse_scales, default=[0.1],
                        help="comma list of generator scales (default 0.1)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="fresh-store runs per scale (default 3 at scales ≤ 1, 1 above)")
    parser.add_argument("--engine", choices=ENGINES, default="duckdb")
    parser.add_argument("--steps", type=parse_steps, default=list(STEP_BY_KEY),
                        help="comma list: " + ", ".join([*STEP_BY_KEY, *ALIASES])
                        + " (default all; the steps they need run too)")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    args = parser.parse_args()
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not REVLOOP.exists():
        parser.error(f"no revloop script beside the interpreter: {REVLOOP}")

    env = {**machine(), "engine": engine_version(args.engine)}
    started = dt.datetime.now(dt.UTC)
    results: list[dict[str, Any]] = []
    try:
        for scale in args.scales:
            results.append(run_scale(args, scale))
    except StepFailed as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    rows = [r for res in results for r in res["summary"]]
    grown = growth({res["scale"]: res["summary"] for res in results})
    print_table(rows, env["engine"])
    print_growth(grown)
    env["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "measured_at": started.isoformat(timespec="seconds"),
        "engine": args.engine, "seed": SEED, "steps": args.steps,
        "machine": env, "scales": results, "table": rows, "growth": grown,
    }, indent=2, default=str) + "\n")
    print(f"\nresults written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
