"""``revloop attribute``: path files and the store, JSON, exports, charts, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from revloop import facade
from revloop.interfaces.cli import app
from revloop.store import connect
from tests.analytics.attribution.golden import LINEAR, MARKOV, SHAPLEY, write_golden
from tests.analytics.attribution.world import write_world

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """Exit code and what the user sees (stdout and stderr); with --json, stdout alone."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout if "--json" in args else result.output


def credits_of(doc: dict, model: str) -> dict[str, float]:  # type: ignore[type-arg]
    m = next(x for x in doc["models"] if x["model"] == model)
    assert m["reconciles"]
    return {r["group"]: r["conversions"] for r in m["credits"]}


def test_golden_paths_json(tmp_path: Path) -> None:
    code, out = invoke("attribute", "--paths", str(write_golden(tmp_path)), "-m",
                       "markov,shapley", "-m", "linear", "--json")
    assert code == 0, out
    doc = json.loads(out)
    for model, want in (("markov", MARKOV), ("shapley", SHAPLEY), ("linear", LINEAR)):
        got = credits_of(doc, model)
        assert got == {k: pytest.approx(v, abs=1e-6) for k, v in want.items()}
    assert doc["totals"]["conversions"] == 13 and doc["totals"]["journeys"] == 64
    markov = next(x for x in doc["models"] if x["model"] == "markov")
    assert markov["details"]["conversion_probability"] == pytest.approx(0.203125)


def test_separator_columns_bootstrap_and_exports(tmp_path: Path) -> None:
    f = tmp_path / "ga.csv"
    f.write_text("Path;Conv;Null;Rev\n"
                 "paid_search > email > direct;3;5;300\nsocial > paid_search;1;9;80\n"
                 "email;2;4;150\n", encoding="utf-8")
    code, out = invoke("attribute", "--paths", str(f), "--delimiter", ";", "--sep", ">",
                       "--path-col", "Path", "--conversions-col", "Conv", "--nulls-col", "Null",
                       "--value-col", "Rev", "-m", "markov", "--bootstrap", "50", "--json",
                       "--output", str(tmp_path / "c.parquet"), "--chart",
                       str(tmp_path / "chart"))
    assert code == 0, out
    doc = json.loads(out)
    rows = doc["models"][0]["credits"]
    assert all(r["conversions_ci"][0] <= r["conversions"] <= r["conversions_ci"][1]
               for r in rows)
    table = pq.read_table(tmp_path / "c.parquet")
    assert table.num_rows == 4 and abs(sum(table.column("conversions").to_pylist()) - 6) < 1e-9
    assert (tmp_path / "chart.png").stat().st_size > 1000
    assert (tmp_path / "chart.svg").read_text().startswith("<?xml")


def test_text_output_lists_every_model(tmp_path: Path) -> None:
    code, out = invoke("attribute", "--paths", str(write_golden(tmp_path)))
    assert code == 0, out
    for header in ("first", "last", "linear", "decay", "markov", "shapley"):
        assert header in out
    assert "13.00 conversions credited over 64 journeys" in out
    assert "Models disagree most on: direct" in out


def test_path_options_and_bootstrap_all(tmp_path: Path) -> None:
    code, out = invoke("attribute", "--paths", str(write_golden(tmp_path)), "-m", "linear",
                       "--exclude-channel", "direct", "--collapse-repeats", "--bootstrap", "30",
                       "--bootstrap-all", "--json")
    assert code == 0, out
    doc = json.loads(out)
    credits = credits_of(doc, "linear")
    assert "direct" not in {k for k, v in credits.items() if v}
    # display>display>paid_search (collapsed): 1/2 to display; display>social>email>email: 1/3
    assert credits["display"] == pytest.approx(0.5 + 1 / 3)
    assert sum(credits.values()) == pytest.approx(13)
    assert "conversions_ci" in doc["models"][0]["credits"][0]


@pytest.mark.parametrize(("text", "args", "message"), [
    ("path,conversions\na,1\nb,x\n", [], "line 3, column 'conversions': expected a "
     "non-negative number, got 'x'"),
    ("route,conversions\na,1\n", [], "no path column"),
    ("path,conversions\na,1\n", ["--value-col", "rev"], "no column 'rev' for value"),
    ("path,conversions\na,1\n", ["-m", "magic"], "unknown model 'magic'"),
    ("path,conversions\na,1\n", ["-m", "custom"], "the custom model needs --weights"),
    ("path,conversions\na,1\n", ["-m", "time_decay", "--half-life-unit", "days"],
     "time decay in days needs touch timestamps"),
    ("path,conversions\na,1\n", ["-m", "markov", "--order", "7"], "order must be 1 to 4"),
    ("path,conversions\na,1\n", ["--metric", "pipeline2"], "does not apply to a path file"),
])
def test_errors_are_one_line(tmp_path: Path, text: str, args: list[str], message: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["attribute", "--paths", str(f), *args])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ")
    assert "Traceback" not in result.output


@pytest.fixture
def world_db(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'world.duckdb'}"
    with connect(url) as store:
        facade.import_files(store, "canonical", write_world(tmp_path / "world"))
        facade.build_model(store)
    return url


def test_store_account_level_json(world_db: str, tmp_path: Path) -> None:
    code, out = invoke("--db", world_db, "attribute", "--level", "account", "--by", "channel",
                       "--metric", "pipeline", "-m", "markov,linear,w_shaped", "--json",
                       "--output", str(tmp_path / "credits.csv"))
    assert code == 0, out
    doc = json.loads(out)
    assert doc["source"]["level"] == "account" and doc["labels"]["value"] == "pipeline"
    assert doc["totals"]["attributed_value"] == 170000
    assert doc["totals"]["unattributed_value"] == 30000
    for m in doc["models"]:
        assert m["reconciles"] and m["total_value"] == 170000
    assert {r["group"] for r in doc["spend"]} >= {"display", "events", "paid_search"}
    assert doc["sourced_influenced"][0]["influenced_model"] == "markov"
    assert (tmp_path / "credits.csv").read_text().startswith('"model","group"')


def test_store_text_campaigns_contact_level(world_db: str, tmp_path: Path) -> None:
    code, out = invoke("--db", world_db, "attribute", "--level", "contact", "--by", "campaign",
                       "--metric", "revenue", "-m", "linear", "--chart",
                       str(tmp_path / "c.png"))
    assert code == 0, out
    assert "Revenue by campaign, contact level" in out
    assert "Search brand (cmp-ps)" in out
    assert "Spend and return (linear)" in out
    assert (tmp_path / "c.png").exists() and (tmp_path / "c_sourced.png").exists()


def test_store_errors(world_db: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", world_db, "attribute", "--metric", "profit"])
    assert result.exit_code == 2
    assert "metric must be pipeline, revenue or conversions" in result.output
    result = runner.invoke(app, ["--db", world_db, "attribute", "--start", "2024-13-01"])
    assert result.exit_code == 2 and "--start '2024-13-01' is not a date" in result.output
    empty = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    result = runner.invoke(app, ["--db", empty, "attribute"])
    assert result.exit_code == 2 and "run `revloop build`" in result.output


def _without_timings(doc: dict) -> dict:  # type: ignore[type-arg]
    doc = {k: v for k, v in doc.items() if k != "timings"}
    doc["models"] = [{k: v for k, v in m.items() if k != "seconds"} for m in doc["models"]]
    return doc


def test_json_is_the_runner_result(world_db: str) -> None:
    code, out = invoke("--db", world_db, "attribute", "-m", "markov,linear,w_shaped",
                       "--metric", "revenue", "--bootstrap", "20", "--json")
    assert code == 0, out
    with connect(world_db) as store:
        expected = facade.attribution.run(store, facade.attribution.AttributionRequest(
            models=("markov", "linear", "w_shaped"), metric="revenue", bootstrap=20))
    assert _without_timings(json.loads(out)) == _without_timings(expected.to_json())


def test_json_errors_carry_the_code(tmp_path: Path) -> None:
    result = runner.invoke(app, ["attribute", "--paths", str(write_golden(tmp_path)), "-m",
                                 "magic", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"error": {"code": "bad_model", "message": (
        "unknown model 'magic'; choose from first_touch, last_touch, last_non_direct, linear, "
        "time_decay, u_shaped, w_shaped, full_path, custom, markov, shapley, "
        "shapley_ordered, markov_2 … markov_4, all, heuristics, data_driven")}}
    assert result.stderr.startswith("error[bad_model]: unknown model 'magic'")
