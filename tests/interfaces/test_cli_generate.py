"""``revloop generate``: files, a store, JSON, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from revloop.interfaces.cli import app

runner = CliRunner()


def test_generate_files_and_store_json(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'company.duckdb'}"
    result = runner.invoke(app, ["generate", "--scale", "0.002", "--seed", "4", "--out",
                                 str(tmp_path / "files"), "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["import"]["reconciles"] and doc["import"]["quarantined"] == 0
    assert doc["generated"]["rows"]["accounts"] == 60
    assert doc["profile"]["accounts"] == 60
    assert (tmp_path / "files" / "manifest.json").exists()
    status = json.loads(runner.invoke(app, ["--db", db, "status", "--json"]).output)
    assert status["raw"]["accounts"] == 60 and status["marts"]["touchpoints"] > 0


def test_generate_text_summary(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "c"), "--scale", "0.002",
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "Ground truth" in result.output and "win rate" in result.output
    assert (tmp_path / "c" / "touchpoints.csv").exists()


def test_generate_refusals(tmp_path: Path) -> None:
    nowhere = runner.invoke(app, ["generate", "--scale", "0.01"], env={"REVLOOP_DB": ""})
    assert nowhere.exit_code == 2
    assert "--out DIR" in nowhere.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    busy = runner.invoke(app, ["generate", "--out", str(tmp_path / "full")])
    assert busy.exit_code == 2 and "not empty" in busy.output
    bad = runner.invoke(app, ["generate", "--out", str(tmp_path / "n"), "--scale", "-1"])
    assert bad.exit_code == 2 and "positive" in bad.output
    day = runner.invoke(app, ["generate", "--out", str(tmp_path / "d"), "--start", "June"])
    assert day.exit_code == 2 and "YYYY-MM-DD" in day.output
