"""Ingest benchmark: canonical ``touchpoints`` from Parquet and CSV into DuckDB and PostgreSQL.

    .venv/bin/python benchmarks/ingest.py [--rows N] [--engines duckdb,postgres]
                                          [--formats parquet,csv] [--out-dir DIR]

* A synthetic, deterministic (seeded) touchpoints file of N rows (default 10,000,000) is
  generated once, chunk by chunk, as ``touchpoints.parquet`` and ``touchpoints.csv`` in the
  cache folder (default ``benchmarks/.data/``; a ``touchpoints.rows`` marker records N so the
  files are reused while N is unchanged). A file of N/10 rows is kept in ``<DIR>/small/``.
* Every engine × format import runs in a fresh store (DuckDB: a new file in a temporary
  folder; PostgreSQL: a new database ``revloop_bench_<pid>``, dropped afterwards) inside a
  child process, so the peak RSS reported is that import's own.
* The time is that of ``run_import`` alone (connecting and creating tables excluded); the
  child also splits it into phases (reading the file, mapping, coercion, staging, merge,
  commit, orphan check). Every run must reconcile and store exactly N rows.
* DuckDB imports are also run on the N/10 file, to show whether memory grows with file size.
* Targets: ≥ 1,000,000 rows/s Parquet → DuckDB, ≥ 300,000 rows/s CSV → DuckDB; PostgreSQL is
  reported only. Results go to ``benchmarks/results/ingest.json``. The exit status is 1 when
  any check or target fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / "benchmarks" / ".data"
RESULTS = ROOT / "benchmarks" / "results" / "ingest.json"

SEED = 20_261_123
GENERATOR_VERSION = 1  # bump when the generated data changes, to invalidate cached files
CHUNK_ROWS = 500_000
N_ACCOUNTS = 30_000
N_CONTACTS = 300_000
N_ANONYMOUS = 1_500_000
N_CAMPAIGNS = 600
N_CONTENT = 2_500
N_PAGES = 5_000
START = int(dt.datetime(2023, 10, 1, tzinfo=dt.UTC).timestamp())
SPAN_SECONDS = 730 * 86_400  # two years

# channel, share of touches, three touch types it produces, utm source, utm medium, has campaign
CHANNELS: list[tuple[str, float, tuple[str, str, str], str, str, bool]] = [
    ("paid_search", 0.14, ("ad_click", "visit", "visit"), "google", "cpc", True),
    ("organic_search", 0.16, ("visit", "visit", "content_view"), "google", "organic", False),
    ("paid_social", 0.08, ("ad_click", "visit", "content_view"), "linkedin", "paid_social", True),
    ("organic_social", 0.05, ("visit", "content_view", "visit"), "linkedin", "social", False),
    ("email", 0.15, ("email_open", "email_click", "email_open"), "newsletter", "email", True),
    ("display", 0.05, ("ad_click", "visit", "ad_click"), "dv360", "display", True),
    ("events", 0.03, ("event", "meeting", "event"), "event", "offline", True),
    ("webinar", 0.04, ("webinar", "form_fill", "content_view"), "webinar", "webinar", True),
    ("content_syndication", 0.03, ("content_view", "form_fill", "content_view"), "partner",
     "syndication", True),
    ("direct", 0.10, ("visit", "visit", "form_fill"), "(direct)", "(none)", False),
    ("referral", 0.05, ("visit", "content_view", "visit"), "g2", "referral", False),
    ("partner", 0.03, ("visit", "form_fill", "meeting"), "partner", "referral", True),
    ("outbound_sales", 0.04, ("call", "email_open", "meeting"), "outreach", "sales", True),
    ("review_sites", 0.02, ("visit", "content_view", "visit"), "capterra", "referral", False),
    ("other", 0.03, ("visit", "identify", "content_view"), "other", "other", False),
]
WEB_TYPES = {"visit", "content_view", "ad_click", "email_click", "form_fill", "webinar"}
CONTENT_TYPES = {"content_view", "webinar", "form_fill", "email_click"}
# Share of touches of each type made by a known contact (the rest are anonymous).
KNOWN_SHARE = {"visit": 0.35, "content_view": 0.45, "ad_click": 0.25, "identify": 1.0}
PAID = {"paid_search", "paid_social", "display"}
SECTIONS = ["blog", "product", "pricing", "docs", "resources", "events", "customers", "about"]
DEVICES = ["desktop", "desktop", "desktop", "mobile", "mobile", "tablet"]

TARGETS: dict[tuple[str, str], int] = {
    ("duckdb", "parquet"): 1_000_000,
    ("duckdb", "csv"): 300_000,
}
PG_ADMIN: dict[str, Any] = {
    "host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres",
}
PHASES = ("read", "map", "coerce", "stage", "merge", "commit", "orphans", "other")
FORMATS = ("parquet", "csv")
ENGINES = ("duckdb", "postgres")


# -- Synthetic data -----------------------------------------------------------------------------

class Generator:
    """Seeded synthetic touchpoints, produced chunk by chunk as Arrow tables."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = np.random.default_rng(seed)
        rng = self.rng
        types = sorted({t for c in CHANNELS for t in c[2]})
        self.type_names = pa.array(types)
        type_index = {t: i for i, t in enumerate(types)}
        self.channel_names = pa.array([c[0] for c in CHANNELS])
        weights = np.array([c[1] for c in CHANNELS])
        self.channel_p = weights / weights.sum()
        self.channel_types = np.array([[type_index[t] for t in c[2]] for c in CHANNELS])
        self.utm_source = pa.array([c[3] for c in CHANNELS])
        self.utm_medium = pa.array([c[4] for c in CHANNELS])
        self.has_campaign = np.array([c[5] for c in CHANNELS])
        self.paid = np.array([c[0] in PAID for c in CHANNELS])
        self.known_share = np.array([KNOWN_SHARE.get(t, 1.0) for t in types])
        self.is_web = np.array([t in WEB_TYPES for t in types])
        self.is_content = np.array([t in CONTENT_TYPES for t in types])
        # Salesforce-like 18-character ids; each contact works at one account.
        self.accounts = pa.array([f"001{i:015d}" for i in range(N_ACCOUNTS)])
        self.contacts = pa.array([f"003{i:015d}" for i in range(N_CONTACTS)])
        self.contact_account = rng.integers(0, N_ACCOUNTS, N_CONTACTS)
        self.campaigns = pa.array([f"701{i:015d}" for i in range(N_CAMPAIGNS)])
        self.content = pa.array([f"cnt-{i:05d}" for i in range(N_CONTENT)])
        self.pages = pa.array([
            f"https://www.example.com/{SECTIONS[i % len(SECTIONS)]}/page-{i:05d}"
            for i in range(N_PAGES)
        ])
        self.devices = pa.array(DEVICES)
        hex_pairs = np.array([f"{i:02x}" for i in range(256)])
        raw = rng.integers(0, 256, (N_ANONYMOUS, 16), dtype=np.uint8)
        self.anonymous = pa.array(np.ascontiguousarray(hex_pairs[raw]).view("<U32").ravel())

    def chunk(self, start: int, n: int) -> pa.Table:
        """Touchpoints ``start`` to ``start + n - 1``."""
        rng = self.rng
        channel = rng.choice(len(CHANNELS), n, p=self.channel_p)
        ttype = self.channel_types[channel, rng.integers(0, 3, n)]
        seconds = START + rng.integers(0, SPAN_SECONDS, n)
        known = rng.random(n) < self.known_share[ttype]
        contact = rng.integers(0, N_CONTACTS, n)
        # Anonymous touches are sometimes matched to an account by reverse IP.
        by_ip = ~known & (rng.random(n) < 0.25)
        account = np.where(known, self.contact_account[contact],
                           rng.integers(0, N_ACCOUNTS, n))
        web = self.is_web[ttype]
        page = rng.integers(0, N_PAGES, n)
        paid = self.paid[channel]
        channel_arr = pa.array(channel)
        source, medium = self.utm_source.take(channel_arr), self.utm_medium.take(channel_arr)
        utm = pc.binary_join_element_wise("?utm_source=", source, "&utm_medium=", medium, "")
        url = pc.binary_join_element_wise(
            self.pages.take(pa.array(page)), pc.if_else(pa.array(paid), utm, ""), "")
        device = self.devices.take(pa.array(rng.integers(0, len(DEVICES), n)))
        props = pc.binary_join_element_wise(
            '{"utm_source": "', source, '", "utm_medium": "', medium, '", "device": "', device,
            '", "score": ', pa.array(rng.integers(0, 100, n)).cast(pa.string()), "}", "")
        with_props = rng.random(n) < 0.25
        campaign = self.campaigns.take(pa.array(rng.integers(0, N_CAMPAIGNS, n)))
        content = self.content.take(pa.array(rng.integers(0, N_CONTENT, n)))
        with_content = self.is_content[ttype] & (rng.random(n) < 0.8)
        anonymous = self.anonymous.take(pa.array(rng.integers(0, N_ANONYMOUS, n)))
        ids = pc.utf8_lpad(pa.array(np.arange(start, start + n)).cast(pa.string()), 10, "0")
        return pa.table({
            "touchpoint_id": pc.binary_join_element_wise("tp-", ids, ""),
            "occurred_at": pa.array(seconds).cast(pa.timestamp("s", tz="UTC")),
            "account_id": pc.if_else(pa.array(known | by_ip),
                                     self.accounts.take(pa.array(account)), None),
            "contact_id": pc.if_else(pa.array(known), self.contacts.take(pa.array(contact)),
                                     None),
            "anonymous_id": pc.if_else(pa.array(web), anonymous, None),
            "touch_type": self.type_names.take(pa.array(ttype)),
            "channel": self.channel_names.take(channel_arr),
            "campaign_id": pc.if_else(pa.array(self.has_campaign[channel]), campaign, None),
            "content_id": pc.if_else(pa.array(with_content), content, None),
            "url": pc.if_else(pa.array(web), url, None),
            "properties": pc.if_else(pa.array(with_props), props, None),
        })


def ensure_files(rows: int, folder: Path) -> dict[str, Path]:
    """``touchpoints.parquet`` and ``touchpoints.csv`` of ``rows`` rows in ``folder``, made
    once (streaming, one chunk in memory at a time) and reused while the marker matches."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / f"touchpoints.{fmt}" for fmt in FORMATS}
    marker = folder / "touchpoints.rows"
    wanted = {"rows": rows, "seed": SEED, "generator": GENERATOR_VERSION}
    try:
        if json.loads(marker.read_text()) == wanted and all(p.exists() for p in paths.values()):
            return paths
    except (OSError, ValueError):
        pass
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    print(f"generating {rows:,} touchpoints in {folder} …", flush=True)
    gen = Generator()
    partial = {fmt: p.with_name(p.name + ".partial") for fmt, p in paths.items()}
    pq_writer: pq.ParquetWriter | None = None
    csv_writer: pacsv.CSVWriter | None = None
    try:
        for start in range(0, rows, CHUNK_ROWS):
            table = gen.chunk(start, min(CHUNK_ROWS, rows - start))
            if pq_writer is None or csv_writer is None:
                pq_writer = pq.ParquetWriter(partial["parquet"], table.schema)
                csv_writer = pacsv.CSVWriter(partial["csv"], table.schema)
            pq_writer.write_table(table, row_group_size=CHUNK_ROWS)
            csv_writer.write_table(table)
    finally:
        if pq_writer is not None:
            pq_writer.close()
        if csv_writer is not None:
            csv_writer.close()
    for fmt, p in partial.items():
        p.replace(paths[fmt])
    marker.write_text(json.dumps(wanted))
    print(f"  done in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{p.name} {p.stat().st_size / 2**20:,.0f} MB" for p in paths.values()),
          flush=True)
    return paths


# -- One import, in a child process ----------------------------------------------------------

def child(url: str, path: str, out: str) -> None:
    """Run one import into the (empty) store at ``url``; write the measurements to ``out``."""
    import revloop.ingest.pipeline as pipeline
    from revloop.ingest.adapters import get_adapter
    from revloop.store import connect

    phases: dict[str, float] = defaultdict(float)
    _time_pipeline(pipeline, phases)
    store = connect(url)
    _time_transactions(store, phases)
    baseline_mb = _peak_rss_mb()
    started = time.perf_counter()
    result = pipeline.run_import(store, get_adapter("canonical"), [path])
    seconds = time.perf_counter() - started
    peak_mb = _peak_rss_mb()
    in_table = int(store.table("raw_touchpoints").count().execute())
    store.close()
    phases["other"] = seconds - sum(phases.values())
    doc = {
        "seconds": seconds,
        "phases": {p: round(phases.get(p, 0.0), 3) for p in PHASES},
        "read": result.total("read"), "stored": result.total("stored"),
        "duplicates": result.total("duplicates"), "quarantined": result.total("quarantined"),
        "reconciles": result.reconciles, "rows_in_table": in_table,
        "orphans": {k: v.orphans for k, v in result.entities.items()},
        "baseline_rss_mb": round(baseline_mb), "peak_rss_mb": round(peak_mb),
    }
    Path(out).write_text(json.dumps(doc))


def _timed(phases: dict[str, float], phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, adding the time of each call to ``phases[phase]``."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[phase] += time.perf_counter() - t0
    return wrapper


def _time_pipeline(pipeline: Any, phases: dict[str, float]) -> None:
    """Wrap the pipeline's collaborators in timers (in this child process only)."""
    # Phase timing wraps the pipeline's collaborators; nothing in revloop changes behaviour.
    for name, phase in (("apply_spec", "map"), ("coerce", "coerce"),
                        ("_flag_orphans", "orphans")):
        if hasattr(pipeline, name):
            setattr(pipeline, name, _timed(phases, phase, getattr(pipeline, name)))
    pipeline.open_file = _timed_open_file(pipeline.open_file, phases)


def _timed_open_file(open_file: Callable[..., Any],
                     phases: dict[str, float]) -> Callable[..., Any]:
    """``open_file`` whose sources time each batch they read as the ``read`` phase."""
    def open_timed(*args: Any, **kwargs: Any) -> Any:
        src = open_file(*args, **kwargs)
        src.batches = _timed_batches(src.batches, phases)
        return src
    return open_timed


def _timed_batches(batches: Callable[[], Iterator[pa.RecordBatch]],
                   phases: dict[str, float]) -> Callable[[], Iterator[pa.RecordBatch]]:
    """``batches`` (a source's batch iterator), timing each batch read as ``read``."""
    def timed_batches() -> Iterator[pa.RecordBatch]:
        it = batches()
        while True:
            t0 = time.perf_counter()
            batch = next(it, None)
            phases["read"] += time.perf_counter() - t0
            if batch is None:
                return
            yield batch
    return timed_batches


def _time_transactions(store: Any, phases: dict[str, float]) -> None:
    """Time the store's staging (``stage``), merging (``merge``) and ``commit``."""
    transaction = store.transaction

    @contextmanager
    def timed_transaction() -> Iterator[Any]:
        with transaction() as tx:
            for method, phase in (("append", "stage"), ("conflicts", "merge"),
                                  ("merge", "merge")):
                setattr(tx, method, _timed(phases, phase, getattr(tx, method)))
            yield tx
            body_done = time.perf_counter()
        phases["commit"] += time.perf_counter() - body_done

    store.transaction = timed_transaction


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Unlike ``ru_maxrss``, which Linux carries
    over from the parent through fork/exec, it covers this program alone."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _watch(proc: subprocess.Popen[bytes]) -> float:
    """Wait for ``proc``, sampling its RSS (a cross-check of VmHWM); the sampled peak in MB."""
    try:
        import psutil
    except ImportError:
        proc.wait()
        return float("nan")
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        with suppress(psutil.Error):
            peak = max(peak, watched.memory_info().rss)
        time.sleep(0.05)
    return peak / 2**20


@contextmanager
def fresh_store(engine: str, tmp: Path) -> Iterator[str]:
    """The URL of a new, empty store, removed afterwards."""
    if engine == "duckdb":
        path = tmp / f"bench-{time.monotonic_ns()}.duckdb"
        try:
            yield f"duckdb:///{path}"
        finally:
            for p in (path, path.with_name(path.name + ".wal")):
                p.unlink(missing_ok=True)
        return
    import psycopg

    name = f"revloop_bench_{os.getpid()}"
    with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())
        con.execute(f"CREATE DATABASE {name}".encode())
    try:
        yield f"postgresql://{PG_ADMIN['user']}@{PG_ADMIN['host']}:{PG_ADMIN['port']}/{name}"
    finally:
        with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def run_one(engine: str, fmt: str, rows: int, path: Path, tmp: Path,
            target: int | None) -> dict[str, Any]:
    """Import ``path`` into a fresh ``engine`` store in a child process and check the result."""
    out = tmp / "child.json"
    out.unlink(missing_ok=True)
    row: dict[str, Any] = {
        "engine": engine, "format": fmt, "rows": rows,
        "file_mb": round(path.stat().st_size / 2**20, 1), "target_rows_per_s": target,
    }
    with fresh_store(engine, tmp) as url:
        wall = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--child", url, str(path), str(out)],
                                cwd=ROOT)
        sampled = _watch(proc)
        row["child_wall_seconds"] = round(time.perf_counter() - wall, 1)
    row["peak_rss_sampled_mb"] = None if sampled != sampled else round(sampled)
    if proc.returncode != 0 or not out.exists():
        row.update(error=f"child exited with status {proc.returncode}", checks_ok=False,
                   passed=False, peak_rss_mb=row["peak_rss_sampled_mb"])
        return row
    doc = json.loads(out.read_text())
    row.update(
        seconds=round(doc["seconds"], 2), rows_per_s=round(rows / doc["seconds"]),
        peak_rss_mb=doc["peak_rss_mb"], baseline_rss_mb=doc["baseline_rss_mb"],
        phases=doc["phases"],
        read=doc["read"], stored=doc["stored"], duplicates=doc["duplicates"],
        quarantined=doc["quarantined"], reconciles=doc["reconciles"],
        rows_in_table=doc["rows_in_table"], orphans=doc["orphans"],
    )
    row["checks_ok"] = bool(doc["reconciles"] and doc["stored"] == rows
                            and doc["rows_in_table"] == rows)
    row["passed"] = row["checks_ok"] and (target is None or row["rows_per_s"] >= target)
    return row


# -- Report ------------------------------------------------------------------------------------

def _verdict(r: dict[str, Any]) -> str:
    if "error" in r:
        return "ERROR"
    if not r["checks_ok"]:
        return f"FAIL (stored {r['stored']:,}, reconciles {r['reconciles']})"
    if r["target_rows_per_s"] is None:
        return "ok (reported)"
    return "pass" if r["passed"] else "FAIL"


def print_report(runs: list[dict[str, Any]], flatness: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(140, Console().width))
    table = Table(title="Ingest: canonical touchpoints (run_import wall time, fresh store)")
    for col in ("engine", "format", "rows", "file MB", "seconds", "rows/s", "RSS at start MB",
                "peak RSS MB", "target rows/s", "result"):
        table.add_column(col, justify="left" if col in ("engine", "format", "result")
                         else "right")
    for r in runs:
        ok = "error" not in r
        table.add_row(
            r["engine"], r["format"], f"{r['rows']:,}", f"{r['file_mb']:,.0f}",
            f"{r['seconds']:,.1f}" if ok else "—", f"{r['rows_per_s']:,}" if ok else "—",
            f"{r['baseline_rss_mb']:,}" if ok else "—", f"{r['peak_rss_mb'] or 0:,}",
            f"≥ {r['target_rows_per_s']:,}" if r["target_rows_per_s"] else "reported",
            _verdict(r),
        )
    console.print(table)

    phases = Table(title="Where the time goes (seconds per phase of run_import)")
    for col in ("engine", "format", "rows", *PHASES):
        phases.add_column(col, justify="left" if col in ("engine", "format") else "right")
    for r in runs:
        if "phases" in r:
            phases.add_row(r["engine"], r["format"], f"{r['rows']:,}",
                           *(f"{r['phases'][p]:.1f}" for p in PHASES))
    console.print(phases)
    console.print("read: file → Arrow batches; map: adapter spec; coerce: typing/validation; "
                  "stage: tx.append (DuckDB: Parquet spool, PostgreSQL: CSV + COPY + key/hash "
                  "INSERT); merge: spool load, dedupe, insert into raw_ (DuckDB key/hash are "
                  "computed here); commit: COMMIT; orphans: reference checks after commit.")

    if flatness:
        mem = Table(title="Memory vs file size (peak RSS of the import process, MB)")
        for col in ("engine", "format", "rows small → full", "RSS small", "RSS full",
                    "growth for 10× rows"):
            mem.add_column(col, justify="left" if col in ("engine", "format") else "right")
        for f in flatness:
            mem.add_row(f["engine"], f["format"],
                        f"{f['rows_small']:,} → {f['rows_full']:,}",
                        f"{f['rss_small_mb']:,}", f"{f['rss_full_mb']:,}",
                        f"{f['growth']:.2f}× ({'≈ flat' if f['growth'] < 1.25 else 'grows'})")
        console.print(mem)
    console.print("peak RSS = high-water resident set (VmHWM) of the child process running the "
                  "import (Python + Arrow + in-process DuckDB); RSS at start = the same after "
                  "imports and connect, before run_import. PostgreSQL server memory is not "
                  "included.")


def _environment() -> dict[str, Any]:
    import duckdb

    env: dict[str, Any] = {
        "python": platform.python_version(), "pyarrow": pa.__version__,
        "duckdb": duckdb.__version__, "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    return env


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows (default 10M)")
    parser.add_argument("--engines", default="duckdb,postgres", help="duckdb,postgres")
    parser.add_argument("--formats", default="parquet,csv", help="parquet,csv")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_CACHE,
                        help="cache folder for the generated files (default benchmarks/.data)")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if bad := [e for e in engines if e not in ENGINES] + [f for f in formats
                                                          if f not in FORMATS]:
        parser.error(f"unknown engine/format {', '.join(bad)}")
    if args.rows < 10:
        parser.error("--rows must be at least 10")
    small_rows = args.rows // 10

    env = _environment()
    files = ensure_files(args.rows, args.out_dir)
    small = ensure_files(small_rows, args.out_dir / "small") if "duckdb" in engines else {}
    runs: list[dict[str, Any]] = []
    flatness: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="revloop-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for engine in engines:
            for fmt in formats:
                sizes = [(small_rows, small[fmt]), (args.rows, files[fmt])] if (
                    engine == "duckdb") else [(args.rows, files[fmt])]
                done = []
                for rows, path in sizes:
                    target = TARGETS.get((engine, fmt)) if rows == args.rows else None
                    print(f"{engine} ← {fmt}, {rows:,} rows …", flush=True)
                    r = run_one(engine, fmt, rows, path, tmp, target)
                    print("  " + json.dumps(r), flush=True)
                    runs.append(r)
                    done.append(r)
                if len(done) == 2 and not any("error" in d for d in done):
                    flatness.append({
                        "engine": engine, "format": fmt,
                        "rows_small": done[0]["rows"], "rows_full": done[1]["rows"],
                        "rss_small_mb": done[0]["peak_rss_mb"],
                        "rss_full_mb": done[1]["peak_rss_mb"],
                        "growth": round(done[1]["peak_rss_mb"] / max(done[0]["peak_rss_mb"], 1),
                                        2),
                    })
    print()
    print_report(runs, flatness)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": args.rows, "engines": engines, "formats": formats,
        "files": {fmt: str(p) for fmt, p in files.items()},
        "environment": env, "runs": runs, "memory_flatness": flatness,
    }, indent=2) + "\n")
    print(f"results written to {RESULTS.relative_to(ROOT)}")
    return 0 if all(r.get("passed") for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
