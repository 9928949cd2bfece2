"""How long the CLI takes to start: `revloop --help` and a light command, median of N runs.

    .venv/bin/python benchmarks/startup.py [--runs 15]

Prints a table (command, median, min, max seconds) and the five slowest imports of the CLI
module (`python -X importtime`). The target is a median under 1 s for `--help`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REVLOOP = [sys.executable, "-m", "revloop.interfaces.cli"]


def _time(cmd: list[str], cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - started


def _slowest_imports(count: int = 5) -> list[tuple[float, str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import revloop.interfaces.cli"], capture_output=True, text=True,
                          check=True)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1e6, parts[2].rstrip()))
    return sorted(rows, reverse=True)[:count]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
        subprocess.run([*REVLOOP, "--db", db, "init"], check=True, capture_output=True, cwd=tmp)
        commands = {"revloop --help": [*REVLOOP, "--help"],
                    "revloop score --help": [*REVLOOP, "score", "--help"],
                    "revloop status (empty store)": [*REVLOOP, "--db", db, "status"]}
        print(f"{'command':<32} {'median s':>9} {'min s':>7} {'max s':>7}")
        for name, cmd in commands.items():
            times = [_time(cmd, tmp) for _ in range(args.runs)]
            print(f"{name:<32} {statistics.median(times):>9.3f} {min(times):>7.3f} "
                  f"{max(times):>7.3f}")
    print("\nslowest imports of revloop.interfaces.cli (cumulative s):")
    for seconds, module in _slowest_imports():
        print(f"  {seconds:6.3f}  {module.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
