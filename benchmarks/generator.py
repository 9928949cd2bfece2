"""Generator benchmark: time and peak memory to write the synthetic company at several scales.

    .venv/bin/python benchmarks/generator.py [--scales 0.1,1,10] [--seed 1] [--workers 2]

Each scale runs in a child process writing Parquet into a temporary folder (deleted after);
the peak memory is the largest sum of the resident sets of the child and its worker
processes, sampled every 50 ms. Targets (SF1): ≤ 60 s and ≤ 4 GB. Growth should be linear:
seconds per scale unit are reported for every scale. Results go to
``benchmarks/results/generator.json``; the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "generator.json"
TARGET_SECONDS = 60.0
TARGET_MB = 4096.0

CHILD = """
import json, sys, time
from revloop.generator.company import generate
from revloop.generator.config import GeneratorConfig
scale, seed, workers, out = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
started = time.perf_counter()
result = generate(GeneratorConfig(scale=scale, seed=seed), out, workers=workers)
print(json.dumps({"seconds": time.perf_counter() - started, "rows": result.rows}))
"""


def _tree_rss(proc: psutil.Process) -> float:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / 2**20


def run_scale(scale: float, seed: int, workers: int) -> dict[str, Any]:
    """Generate one company in a child process; wall time, rows, peak memory, disk size."""
    tmp = Path(tempfile.mkdtemp(prefix="revloop-bench-gen-"))
    out = tmp / "company"
    try:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(scale), str(seed), str(workers), str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        watched = psutil.Process(child.pid)
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, _tree_rss(watched))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        stdout, stderr = child.communicate()
        if child.returncode:
            raise RuntimeError(f"scale {scale} failed:\n{stderr.decode()[-2000:]}")
        doc = json.loads(stdout.decode().strip().splitlines()[-1])
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        return {"scale": scale, "seconds": round(doc["seconds"], 2),
                "wall_seconds": round(wall, 2), "peak_mb": round(peak, 1),
                "disk_mb": round(size / 2**20, 1), "rows": doc["rows"],
                "touchpoints": doc["rows"]["touchpoints"],
                "seconds_per_scale": round(doc["seconds"] / scale, 2)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,1,10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",")]
    runs = []
    for scale in scales:
        print(f"SF{scale:g} …", flush=True)
        runs.append(run_scale(scale, args.seed, args.workers))
    ok = True
    print()
    print(f"{'scale':>6} {'touchpoints':>12} {'seconds':>8} {'s / SF':>7} {'peak MB':>8} "
          f"{'disk MB':>8}  target")
    for r in runs:
        verdict = ""
        if r["scale"] == 1:
            met = r["seconds"] <= TARGET_SECONDS and r["peak_mb"] <= TARGET_MB
            ok &= met
            verdict = f"≤ {TARGET_SECONDS:.0f} s, ≤ {TARGET_MB:.0f} MB: " + (
                "met" if met else "NOT MET")
        print(f"{r['scale']:>6g} {r['touchpoints']:>12,} {r['seconds']:>8.1f} "
              f"{r['seconds_per_scale']:>7.1f} {r['peak_mb']:>8,.0f} {r['disk_mb']:>8,.0f}  "
              f"{verdict}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "runs": runs, "seed": args.seed, "workers": args.workers,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
