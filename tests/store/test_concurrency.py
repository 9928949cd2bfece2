"""Imports and builds that run at the same time on one PostgreSQL store: nothing doubled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT

ROWS = 20_000


def _accounts(path: Path, start: int, stop: int) -> Path:
    lines = ["account_id,name,domain,industry,employees"]
    lines += [f"a-{i:06d},Company {i},c{i}.example,software,{10 + i % 500}"
              for i in range(start, stop)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _revloop(db: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "revloop.interfaces.cli", "--db", db, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _together(db: str, *commands: list[str]) -> list[tuple[int, str, str]]:
    procs = [_revloop(db, *c) for c in commands]
    return [(p.wait(timeout=600), *p.communicate()) for p in procs]


def _raw_counts(db: str, table: str) -> tuple[int, int]:
    with psycopg.connect(db) as con:
        row = con.execute(f"SELECT count(*), count(DISTINCT _key) FROM {table}").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_concurrent_imports_of_the_same_file_store_each_row_once(pg_url: str,
                                                                 tmp_path: Path) -> None:
    file = _accounts(tmp_path / "accounts.csv", 0, ROWS)
    results = _together(pg_url, ["import", "canonical", str(file), "--json"],
                        ["import", "canonical", str(file), "--json"])
    assert all(code == 0 for code, _, _ in results), results
    assert _raw_counts(pg_url, "raw_accounts") == (ROWS, ROWS)
    docs = [json.loads(out) for _, out, _ in results]
    # one import stored every row, the other found them all stored: both reconcile
    assert sorted(d["stored"] for d in docs) == [0, ROWS]
    assert all(d["reconciles"] for d in docs)


def test_concurrent_imports_of_new_keys_into_a_filled_store(pg_url: str,
                                                            tmp_path: Path) -> None:
    first = _accounts(tmp_path / "accounts.csv", 0, 1_000)
    code, _, err = _together(pg_url, ["import", "canonical", str(first)])[0]
    assert code == 0, err
    (tmp_path / "more").mkdir()
    more = _accounts(tmp_path / "more" / "accounts.csv", 1_000, ROWS)
    results = _together(pg_url, ["import", "canonical", str(more)],
                        ["import", "canonical", str(more)])
    assert all(code == 0 for code, _, _ in results), results
    assert _raw_counts(pg_url, "raw_accounts") == (ROWS, ROWS)


@pytest.mark.parametrize("build_too", [False, True])
def test_an_import_waits_and_says_for_whom(pg_url: str, tmp_path: Path,
                                           build_too: bool) -> None:
    file = _accounts(tmp_path / "accounts.csv", 0, ROWS)
    commands = [["import", "canonical", str(file)], ["import", "canonical", str(file)]]
    if build_too:
        commands.append(["build"])
    results = _together(pg_url, *commands)
    assert all(code == 0 for code, _, _ in results), results
    assert _raw_counts(pg_url, "raw_accounts") == (ROWS, ROWS)
    # whoever came second was told whom it waited for
    waits = [err for _, _, err in results if "waiting for revloop" in err]
    assert waits, [err for _, _, err in results]
    assert "PostgreSQL pid" in waits[0]


def test_concurrent_builds_run_one_after_the_other(pg_url: str, tmp_path: Path) -> None:
    file = _accounts(tmp_path / "accounts.csv", 0, 2_000)
    assert _together(pg_url, ["import", "canonical", str(file)])[0][0] == 0
    results = _together(pg_url, ["build", "--json"], ["build", "--json"], ["build", "--json"])
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert all(json.loads(out)["marts"]["accounts"] == 2_000 for _, out, _ in results)
    with psycopg.connect(pg_url) as con:
        statuses = con.execute("SELECT status FROM builds").fetchall()
    assert sorted(s for (s,) in statuses) == ["complete"] * 3


def test_a_busy_duckdb_store_says_who_holds_it(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'store.duckdb'}"
    file = _accounts(tmp_path / "accounts.csv", 0, 400_000)
    first = _revloop(db, "import", "canonical", str(file))
    time.sleep(1.5)
    env_wait = {"REVLOOP_BUSY_TIMEOUT": "0.5"}
    second = subprocess.run([sys.executable, "-m", "revloop.interfaces.cli", "--db", db,
                             "status"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env_wait})
    assert first.wait(timeout=600) == 0
    if second.returncode == 0:
        pytest.skip("the first import finished before the second command started")
    assert second.returncode == 2
    assert second.stderr.startswith("error[store_busy]: the store")
    assert f"in use by process {first.pid}" in second.stderr


@pytest.mark.spark
def test_concurrent_spark_imports_take_turns(tmp_path: Path) -> None:
    db = f"spark://local?warehouse={tmp_path / 'wh'}"
    file = _accounts(tmp_path / "accounts.csv", 0, 5_000)
    results = _together(db, ["import", "canonical", str(file), "--json"],
                        ["import", "canonical", str(file), "--json"])
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert sorted(json.loads(out)["stored"] for _, out, _ in results) == [0, 5_000]
