"""Ingest throughput and memory: canonical touchpoints from Parquet and CSV into DuckDB and
PostgreSQL.

    .venv/bin/python benchmarks/ingest.py [--rows 10000000] [--engines duckdb,postgres]
                                          [--formats parquet,csv] [--out-dir benchmarks/.data]

Each import runs in a fresh store, in a child process, so its peak memory (max RSS) is its
own. The timed part is ``run_import`` alone (connecting and creating tables excluded). The
same import is also run on a file a tenth the size, to show memory does not grow with it.
Targets: ≥ 1,000,000 rows/s Parquet → DuckDB; ≥ 300,000 rows/s CSV → DuckDB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = np.array(["paid_search", "organic_search", "paid_social", "organic_social", "email",
                     "display", "events", "webinar", "content", "content_syndication",
                     "direct", "referral", "partner", "outbound_sales", "other"])
TYPES = np.array(["visit", "content_view", "email_open", "email_click", "ad_click", "form_fill",
                  "webinar", "meeting", "call"])
TARGETS = {("duckdb", "parquet"): 1_000_000, ("duckdb", "csv"): 300_000}
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
CHUNK = 1_000_000


def _ids(prefix: str, values: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pa.array(values).cast(pa.string()), "")


def _chunk(rng: np.random.Generator, start: int, n: int) -> pa.Table:
    """``n`` realistic touchpoints: 30k accounts, 300k contacts, 15 channels, two years."""
    contact = rng.integers(0, 300_000, n)
    seconds = rng.integers(0, 2 * 365 * 86400, n)
    when = (np.datetime64("2024-01-01T00:00:00", "s") + seconds).astype("datetime64[us]")
    known = rng.random(n) < 0.7
    with_props = rng.random(n) < 0.2
    channel = CHANNELS[rng.integers(0, len(CHANNELS), n)]
    page = rng.integers(0, 5_000, n)
    props = pc.binary_join_element_wise('{"utm_source":"', pa.array(channel), '","page":',
                                        pa.array(page).cast(pa.string()), "}", "")
    return pa.table({
        "touchpoint_id": _ids("tp-", np.arange(start, start + n)),
        "occurred_at": pa.array(when),
        "account_id": _ids("acc-", contact // 10),
        "contact_id": pc.if_else(pa.array(known), _ids("c-", contact), None),
        "anonymous_id": _ids("anon-", rng.integers(0, 2_000_000, n)),
        "touch_type": pa.array(TYPES[rng.integers(0, len(TYPES), n)]),
        "channel": pa.array(channel),
        "campaign_id": _ids("cmp-", rng.integers(0, 400, n)),
        "content_id": pc.if_else(pa.array(rng.random(n) < 0.3),
                                 _ids("ct-", rng.integers(0, 2_000, n)), None),
        "url": _ids("https://example.com/p/", page),
        "properties": pc.if_else(pa.array(with_props), props, None),
    })


def ensure_files(rows: int, folder: Path) -> dict[str, Path]:
    """The Parquet and CSV files of ``rows`` touchpoints, generated once and cached."""
    folder = folder / f"touchpoints_{rows}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": folder / "touchpoints.parquet", "csv": folder / "touchpoints.csv"}
    marker = folder / "ROWS"
    if marker.exists() and marker.read_text() == str(rows) and all(
            p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(20261123)
    pq_writer: pq.ParquetWriter | None = None
    with open(paths["csv"], "wb") as csv_out:
        csv_writer: pacsv.CSVWriter | None = None
        for start in range(0, rows, CHUNK):
            table = _chunk(rng, start, min(CHUNK, rows - start))
            if pq_writer is None:
                pq_writer = pq.ParquetWriter(paths["parquet"], table.schema)
                csv_writer = pacsv.CSVWriter(csv_out, table.schema)
            pq_writer.write_table(table)
            assert csv_writer is not None
            csv_writer.write_table(table)
        if csv_writer is not None:
            csv_writer.close()
    if pq_writer is not None:
        pq_writer.close()
    marker.write_text(str(rows))
    return paths


CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from revloop.ingest.adapters import get_adapter
    from revloop.ingest.pipeline import run_import
    from revloop.store import connect

    store = connect(sys.argv[1])
    started = time.perf_counter()
    result = run_import(store, get_adapter("canonical"), [sys.argv[2]])
    seconds = time.perf_counter() - started
    store.close()
    print(json.dumps({"seconds": seconds, "stored": result.total("stored"),
                      "reconciles": result.reconciles,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def run_one(engine: str, path: Path, tmp: Path) -> dict[str, float]:
    """Import ``path`` into a fresh store of ``engine`` in a child process."""
    db_name = None
    if engine == "duckdb":
        url = f"duckdb:///{tmp / f'{uuid.uuid4().hex}.duckdb'}"
    else:
        db_name = f"revloop_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {db_name}".encode())
        url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, url, str(path)], capture_output=True,
                             text=True, cwd=ROOT, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"{engine} import of {path} failed:\n{out.stderr[-3000:]}")
        doc: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        return doc
    finally:
        if db_name:
            with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
                con.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)".encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--engines", default="duckdb,postgres")
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / ".data")
    args = parser.parse_args()
    engines = args.engines.split(",")
    formats = args.formats.split(",")
    results = []
    with tempfile.TemporaryDirectory(prefix="revloop-bench-") as tmp_name:
        tmp = Path(tmp_name)
        sizes = [args.rows // 10, args.rows]
        files = {n: ensure_files(n, args.out_dir) for n in sizes}
        for engine in engines:
            for fmt in formats:
                for n in sizes:
                    if engine != "duckdb" and n != args.rows:
                        continue  # the memory-flatness check is made on DuckDB
                    doc = run_one(engine, files[n][fmt], tmp)
                    if doc["stored"] != n or not doc["reconciles"]:
                        raise RuntimeError(f"{engine}/{fmt}: stored {doc['stored']} of {n}")
                    target = TARGETS.get((engine, fmt)) if n == args.rows else None
                    rate = n / doc["seconds"]
                    results.append({
                        "engine": engine, "format": fmt, "rows": n,
                        "file_mb": round(files[n][fmt].stat().st_size / 2**20, 1),
                        "seconds": round(doc["seconds"], 2), "rows_per_s": round(rate),
                        "peak_rss_mb": round(doc["peak_mb"]), "target": target,
                        "pass": None if target is None else rate >= target,
                    })
                    print(json.dumps(results[-1]), flush=True)
    header = ("engine", "format", "rows", "file MB", "seconds", "rows/s", "peak RSS MB",
              "target rows/s", "result")
    lines = [header] + [(
        r["engine"], r["format"], f"{r['rows']:,}", f"{r['file_mb']:,}", f"{r['seconds']:.1f}",
        f"{r['rows_per_s']:,}", f"{r['peak_rss_mb']:,}",
        "—" if r["target"] is None else f"≥ {r['target']:,}",
        "—" if r["pass"] is None else ("pass" if r["pass"] else "FAIL"),
    ) for r in results]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    print()
    for line in lines:
        print("  ".join(str(v).rjust(w) for v, w in zip(line, widths, strict=True)))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
