"""An import killed midway leaves the store exactly as before; big files are streamed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from revloop.store import connect
from tests.conftest import ROOT
from tests.ingest.helpers import canonical, snapshot, write

TOUCH_HEADER = "touchpoint_id,occurred_at,account_id,contact_id,touch_type,channel,url\n"


def _touchpoints_csv(path: Path, rows: int, pad: int = 0) -> Path:
    """A canonical touchpoints file, written in chunks."""
    filler = "x" * pad
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(TOUCH_HEADER)
        chunk = 50_000
        for start in range(0, rows, chunk):
            fh.write("".join(
                f"tp-{i},2024-01-{1 + i % 28:02d}T10:{i % 60:02d}:00,acc-{i % 997},"
                f"c-{i % 30011},visit,paid_search,https://example.com/{i}?{filler}\n"
                for i in range(start, min(rows, start + chunk))
            ))
    return path


DRIVER = textwrap.dedent("""
    import sys
    from revloop.ingest.adapters import get_adapter
    from revloop.ingest.pipeline import ImportOptions, run_import
    from revloop.ingest.readers import ReadOptions
    from revloop.store import connect

    store = connect(sys.argv[1])
    def hook(file, rows):
        print("rows", rows, flush=True)
    opts = ImportOptions(read=ReadOptions(block_bytes=1 << 20))
    run_import(store, get_adapter("canonical"), [sys.argv[2]], opts, progress=hook)
    print("done", flush=True)
""")


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_killed_import_leaves_the_store_unchanged(engine: str, tmp_path: Path,
                                                  request: pytest.FixtureRequest) -> None:
    url = (f"duckdb:///{tmp_path / 'store.duckdb'}" if engine == "duckdb"
           else request.getfixturevalue("pg_url"))
    store = connect(url)
    canonical(store, write(tmp_path / "seed" / "touchpoints.csv",
                           TOUCH_HEADER + "tp-seed,2024-01-01T00:00:00,a,c,visit,email,u\n"))
    before = snapshot(store)
    store.close()

    big = _touchpoints_csv(tmp_path / "touchpoints.csv", 400_000)
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, url, str(big)], stdout=subprocess.PIPE, text=True,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("rows"):
            seen = int(line.split()[1])
            if seen >= 100_000:  # well into the file: staged rows exist, nothing committed
                break
        assert line, "the import ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert seen >= 100_000 and proc.returncode == -signal.SIGKILL

    store = connect(url)
    try:
        assert snapshot(store) == before
        assert store.count("imports") == 1
        # and the store still works: the same file imports in full afterwards
        result = canonical(store, big)
        assert result.entities["touchpoints"].stored == 400_000
    finally:
        store.close()


MEMORY_DRIVER = textwrap.dedent("""
    import sys, json
    from revloop.ingest.adapters import get_adapter
    from revloop.ingest.pipeline import run_import
    from revloop.store import connect

    store = connect(sys.argv[1])
    result = run_import(store, get_adapter("canonical"), [sys.argv[2]])
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (the test
    # runner, which may hold a lot by then), while VmHWM starts afresh at exec.
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    peak_mb = int(hwm.split()[1]) / 1024
    print(json.dumps({"stored": result.total("stored"), "peak_mb": peak_mb,
                      "reconciles": result.reconciles}))
""")


def _peak_import(tmp_path: Path, rows: int) -> tuple[float, float]:
    """(file size MiB, peak RSS MiB) of importing a padded touchpoints file of ``rows``."""
    import json

    folder = tmp_path / str(rows)
    folder.mkdir()
    path = _touchpoints_csv(folder / "touchpoints.csv", rows, pad=1000)
    url = f"duckdb:///{folder / 'store.duckdb'}?memory_limit=128MB&threads=1"
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_DRIVER, url, str(path)], capture_output=True, text=True,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, timeout=1200,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    assert doc["stored"] == rows and doc["reconciles"]
    size = path.stat().st_size / (1 << 20)
    path.unlink()
    return size, float(doc["peak_mb"])


@pytest.mark.slow
def test_one_gigabyte_file_is_streamed(tmp_path: Path) -> None:
    small_size, small_peak = _peak_import(tmp_path, 100_000)
    big_size, big_peak = _peak_import(tmp_path, 1_200_000)
    assert big_size > 1024  # MiB: over 1 GiB
    print(f"small {small_size:.0f} MiB → peak {small_peak:.0f} MiB; big {big_size:.0f} MiB → peak "
          f"{big_peak:.0f} MiB")
    # The process never holds the file: its peak stays well below the file's size…
    assert big_peak < 0.9 * big_size, (big_peak, big_size)
    # …and grows far slower than the data. What growth remains (measured: about 0.35 MB per
    # thousand rows) is per-row merge bookkeeping inside the transaction, not the row bytes.
    assert big_peak - small_peak < 0.5 * (big_size - small_size), (small_peak, big_peak)
