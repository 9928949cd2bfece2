"""Clean failure: settings mistakes, signals, full disks and leftovers, as a user sees them."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from revloop.store import connect
from tests.conftest import ROOT


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200",
            "TMPDIR": str(tmp), **extra}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "revloop.interfaces.cli", *args]


def _accounts(path: Path, rows: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("account_id,name,domain,industry,employees\n")
        for i in range(rows):
            fh.write(f"a-{i:07d},Company {i} with a longer name,c{i}.example,software,{i}\n")
    return path


def _one_clear_line(stderr: str, code: str) -> None:
    lines = [ln for ln in stderr.strip().splitlines() if not ln.startswith("note ")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error[{code}]:"), stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


@pytest.mark.parametrize(("env", "toml", "says"), [
    ({"REVLOOP_BATCH_ROWS": "abc"}, None, "setting batch_rows (REVLOOP_BATCH_ROWS"),
    ({}, "[funnel\nx = 1\n", "not valid TOML"),
    ({}, "funel = 1\n", "unknown setting 'funel' (did you mean 'funnel'?)"),
])
def test_settings_mistakes_are_one_line(tmp_path: Path, env: dict[str, str], toml: str | None,
                                        says: str) -> None:
    if toml is not None:
        (tmp_path / "revloop.toml").write_text(toml, encoding="utf-8")
    proc = subprocess.run(_cli("status"), capture_output=True, text=True, cwd=tmp_path,
                          env=_env(tmp_path, **env), timeout=120)
    assert proc.returncode == 2
    _one_clear_line(proc.stderr, "config_error")
    assert says in proc.stderr


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 20, 3 << 20))


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'store.duckdb'}"
    connect(db).close()
    big = _accounts(tmp_path / "accounts.csv", 200_000)  # ~14 MB: over the 3 MB file limit
    spool = tmp_path / "tmp"
    spool.mkdir()
    proc = subprocess.run(_cli("--db", db, "import", "canonical", str(big)),
                          capture_output=True, text=True, env=_env(spool), timeout=300,
                          preexec_fn=_limit_file_size)
    assert proc.returncode == 2, proc.stderr
    _one_clear_line(proc.stderr, "disk_full")
    assert not list(spool.iterdir())  # no spool left behind
    with connect(db) as store:
        assert store.count("raw_accounts") == 0 and store.count("imports") == 0


@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")])
def test_signals_stop_cleanly(tmp_path: Path, sig: int, code: int, name: str) -> None:
    db = f"duckdb:///{tmp_path / 'store.duckdb'}"
    connect(db).close()
    big = _accounts(tmp_path / "accounts.csv", 600_000)
    spool = tmp_path / "tmp"
    spool.mkdir()
    proc = subprocess.Popen(_cli("--db", db, "import", "canonical", str(big)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(spool))
    deadline = time.monotonic() + 60
    while not list(spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)  # wait until the import is spooling
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    _one_clear_line(err, name)
    assert not list(spool.iterdir())
    with connect(db) as store:
        assert store.count("raw_accounts") == 0


def test_a_killed_imports_spool_is_removed_by_the_next_import(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'store.duckdb'}"
    connect(db).close()
    big = _accounts(tmp_path / "accounts.csv", 600_000)
    spool = tmp_path / "tmp"
    spool.mkdir()
    proc = subprocess.Popen(_cli("--db", db, "import", "canonical", str(big)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(spool))
    deadline = time.monotonic() + 60
    while not list(spool.glob("revloop-spool-*/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    left = list(spool.iterdir())
    assert left and oct(left[0].stat().st_mode & 0o777) == "0o700"  # private while it lasts
    (tmp_path / "small").mkdir()
    small = _accounts(tmp_path / "small" / "accounts.csv", 10)
    done = subprocess.run(_cli("--db", db, "import", "canonical", str(small)),
                          capture_output=True, text=True, env=_env(spool), timeout=120)
    assert done.returncode == 0, done.stderr
    assert not list(spool.iterdir())


def test_an_import_that_does_not_reconcile_exits_non_zero(tmp_path: Path) -> None:
    """A store whose raw table holds a key twice (as concurrent imports once left it) makes
    the next import's counts not add up: that must never look like success."""
    import duckdb

    db = tmp_path / "store.duckdb"
    file = _accounts(tmp_path / "accounts.csv", 5)
    subprocess.run(_cli("--db", f"duckdb:///{db}", "import", "canonical", str(file)),
                   check=True, capture_output=True, env=_env(tmp_path), timeout=120)
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO raw_accounts SELECT * FROM raw_accounts LIMIT 1")
    proc = subprocess.run(_cli("--db", f"duckdb:///{db}", "import", "canonical", str(file)),
                          capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "DOES NOT reconcile" in proc.stdout
    assert proc.stderr.startswith("error[import_does_not_reconcile]:")


def test_exports_neutralise_formulas_from_imported_data(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'store.duckdb'}"
    bad = tmp_path / "accounts.csv"
    bad.write_text('account_id,name,employees\na1,Acme,=1+1\na2,"=HYPERLINK(""http://x"")",'
                   '@SUM(A1)\n', encoding="utf-8")
    subprocess.run(_cli("--db", db, "import", "canonical", str(bad)), check=True,
                   capture_output=True, env=_env(tmp_path), timeout=120)
    for flag, name in (([], "safe.csv"), (["--raw"], "raw.csv")):
        subprocess.run(_cli("--db", db, "quarantine", "export", str(tmp_path / name), *flag),
                       check=True, capture_output=True, env=_env(tmp_path), timeout=120)
    safe = (tmp_path / "safe.csv").read_text(encoding="utf-8")
    assert "\"'=1+1\"" in safe and "\"'@SUM(A1)\"" in safe
    assert "\"=1+1\"" in (tmp_path / "raw.csv").read_text(encoding="utf-8")
