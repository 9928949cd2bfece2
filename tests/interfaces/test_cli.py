"""The command line: JSON documents, reconciliation, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from revloop.interfaces.cli import app
from tests.conftest import EXAMPLES, ROOT, datasets_or_skip

runner = CliRunner()


def _run(db: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.output


def test_import_json_reconciles_and_second_run_stores_nothing(tmp_path: Path) -> None:
    folder = datasets_or_skip() / "olist_marketing_funnel"
    files = [str(p) for p in sorted(folder.glob("*.csv"))]
    db = f"duckdb:///{tmp_path / 'r.duckdb'}"
    args = ["import", "mapped", *files, "--mapping", str(EXAMPLES / "olist.yaml"), "--json"]
    code, out = _run(db, *args)
    assert code == 0, out
    doc = json.loads(out)
    assert doc["read"] == doc["stored"] + doc["duplicates"] + doc["quarantined"] == 25684
    for counts in doc["entities"].values():
        assert counts["read"] == counts["stored"] + counts["duplicates"] + counts["quarantined"]
    code, out = _run(db, *args)
    again = json.loads(out)
    assert (again["stored"], again["duplicates"]) == (0, 25684)


def test_every_command_prints_json(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'r.duckdb'}"
    (tmp_path / "accounts.csv").write_text("account_id,employees\na1,5\na2,many\n")
    assert json.loads(_run(db, "init", "--json")[1])["engine"] == "duckdb"
    doc = json.loads(_run(db, "import", "canonical", str(tmp_path / "accounts.csv"),
                          "--json")[1])
    assert (doc["stored"], doc["quarantined"]) == (1, 1)
    assert json.loads(_run(db, "build", "--json")[1])["marts"]["accounts"] == 1
    status = json.loads(_run(db, "status", "--json")[1])
    assert status["raw"]["accounts"] == 1 and status["quarantined"] == 1
    (row,) = json.loads(_run(db, "quarantine", "list", "--json")[1])
    assert (row["line"], row["column_name"], row["value"]) == (3, "employees", "many")
    out = tmp_path / "q.csv"
    assert json.loads(_run(db, "quarantine", "export", str(out), "--json")[1])["rows"] == 1
    assert "employees must be a whole number" in out.read_text()
    assert "contacts" in json.loads(_run(db, "schema", "--json")[1])


def test_errors_are_one_clear_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "accounts.csv"
    bad.write_text("account_id;name\na1;Acme\n")
    proc = subprocess.run(
        [sys.executable, "-m", "revloop.interfaces.cli", "--db",
         f"duckdb:///{tmp_path / 'r.duckdb'}", "import", "canonical", str(bad)],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"},
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error[wrong_delimiter]: {bad}: the header has one column")
    assert "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", "nosuch://x", "--debug", "status"])
    assert result.exit_code != 0 and result.exception is not None


def test_unknown_store_url(tmp_path: Path) -> None:
    code, out = _run("nosuch://x", "status")
    assert code == 2 and "unsupported store URL 'nosuch://x'" in out


def test_help_reads_well() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "import", "build", "status", "quarantine", "schema"):
        assert command in result.output
