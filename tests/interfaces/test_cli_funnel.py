"""``revloop funnel``: JSON, text, files and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revloop import facade
from revloop.interfaces.cli import app
from revloop.store import connect
from tests.analytics.funnel.world import write_world

runner = CliRunner()


def _run(db: str, *args: str) -> tuple[int, str]:
    """Exit code and what the user sees (stdout and stderr); with --json, stdout alone."""
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.stdout if "--json" in args else result.output


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("cli_funnel")
    url = f"duckdb:///{folder / 'world.duckdb'}"
    with connect(url) as store:
        facade.import_files(store, "canonical", write_world(folder / "world"))
        facade.build_model(store)
    return url


def test_json_is_the_facade_result(db: str) -> None:
    code, out = _run(db, "funnel", "--by", "channel,owner", "--by", "segment", "--json")
    assert code == 0, out
    doc = json.loads(out)
    with connect(db) as store:
        expected = facade.funnel.run(store, facade.funnel.build_request(
            by=("channel", "owner", "segment"), stalled_limit=1000)).to_json()
    doc.pop("timings"), expected.pop("timings")
    assert doc == expected
    assert [r["entered"] for r in doc["funnel"]] == [10, 8, 6, 3, 2, 2]


def test_text_report(db: str) -> None:
    code, out = _run(db, "funnel", "--level", "account", "--by", "product", "--cohort",
                     "week", "--window", "30", "--compare", "week")
    assert code == 0, out
    for text in ("Account funnel", "Funnel", "Velocity", "Open journeys", "Cohorts by week",
                 "By product", "Leakage", "Revenue-cycle status", "After the sale",
                 "window 30.0 d", "2024-W01", "lost", "price"):
        assert text in out, text
    code, out = _run(db, "funnel")
    assert "Longest stalled" in out and "Sam Sdr" in out
    assert "source stage values not in the funnel: lead:'weird_status' (1)" in out
    # the settings table is named, not swallowed as Rich markup
    assert "Map them in [funnel.values] of revloop.toml" in " ".join(out.split())


def test_files_are_written_and_listed(db: str, tmp_path: Path) -> None:
    code, out = _run(db, "funnel", "--by", "channel", "--export", str(tmp_path / "x"),
                     "--format", "csv", "--charts", str(tmp_path / "c"), "--chart-format",
                     "svg", "--html", str(tmp_path / "r.html"), "--json")
    assert code == 0, out
    assert json.loads(out)["level"] == "lead"  # stdout is the result alone
    assert (tmp_path / "x" / "funnel.csv").is_file()
    assert (tmp_path / "c" / "cut_channel.svg").is_file()
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert not list((tmp_path / "c").glob("*.png"))
    code, out = _run(db, "funnel", "--html", str(tmp_path / "again.html"))
    assert code == 0 and "wrote" in out and "again.html" in out


def test_stage_definitions(db: str) -> None:
    code, out = _run(db, "funnel", "--stages", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["stages"] == ["inquiry", "mql", "sal", "sql", "opportunity", "won"]
    assert doc["values"]["closed won"] == "won"
    code, out = _run(db, "funnel", "--stages")
    assert "Waterfall: inquiry → mql → sal → sql → opportunity → won" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--by", "colour"], "error[funnel_request_error]: unknown dimension 'colour'"),
    (["--from", "2024-03-01", "--to", "2024-01-01"],
     "error[funnel_request_error]: --from 2024-03-01 is not before --to 2024-01-01"),
    (["--level", "account", "--reentry", "cycle"],
     "error[funnel_request_error]: --reentry cycle applies to leads"),
    (["--window", "-3"],
     "error[funnel_request_error]: window_days: Input should be greater than 0"),
    (["--charts", "/tmp/x", "--chart-format", "gif"],
     "error[funnel_request_error]: chart format gif"),
])
def test_errors_are_one_line(db: str, args: list[str], message: str) -> None:
    code, out = _run(db, "funnel", *args)
    assert code == 2, out
    assert message in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_store_without_data(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    code, out = _run(url, "funnel")
    assert code == 2 and "run `revloop build` first" in out
    _run(url, "build")
    code, out = _run(url, "funnel", "--json")
    assert code == 2 and "no stage transitions map to the funnel at the lead level" in out
