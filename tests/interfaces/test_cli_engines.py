"""Every CLI command that reads or writes the store, on DuckDB, PostgreSQL and Spark.

One small generated company (written once as canonical CSV files, with one account row the
importer must quarantine) is imported through the CLI into each engine, built once per engine
(module-scoped), and every command runs against it with ``--json``: the exit code is 0 and a
few headline figures of each command (funnel entries, attribution totals, MQLs, scored rows,
evaluation metrics …) are the same on every engine that ran.

An engine gap is a strict xfail naming the engine (``pytest.param(..., marks=xfail)``), never
an ``if`` on the engine here.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from revloop.facade.generate import generate_company
from revloop.interfaces.cli import app
from tests.conftest import EXAMPLES, PG_ADMIN

runner = CliRunner()

ENGINES = ["duckdb", "postgres", pytest.param("spark", marks=pytest.mark.spark)]
RULES = EXAMPLES / "scoring.yaml"
# 120 accounts, ~1k people, ~29k touches over 300 days: enough history for the account
# backtest (90 days of warm-up, a 90-day horizon) and both outcomes for every model.
SCALE, SEED, DAYS = 0.004, 3, 300
BAD_ACCOUNT = "acc-bad,Broken Ltd,broken.example,software,many,,,,,,,,\n"

#: check → engine → the headline figures that engine gave (see :func:`agree`)
FIGURES: dict[str, dict[str, Any]] = {}


@dataclass
class Db:
    """A store built from the company through the CLI, and what the build printed."""

    engine: str
    url: str
    folder: Path
    docs: dict[str, Any] = field(default_factory=dict)


def invoke(url: str, *args: str) -> Any:
    """Run ``revloop --db URL ARGS --json``; exit code 0 and the JSON it printed."""
    result = runner.invoke(app, ["--db", url, *args, "--json"])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.stdout)


def agree(db: Db, check: str, figures: Any) -> None:
    """Record ``figures`` of ``check`` on this engine; equal to every other engine's."""
    seen = FIGURES.setdefault(check, {})
    seen[db.engine] = figures
    for engine, theirs in seen.items():
        assert figures == theirs, f"{check}: {db.engine} differs from {engine}"


def r6(x: float | None) -> float | None:
    """A float rounded to 6 digits (engines sum in different orders)."""
    return None if x is None else round(x, 6)


# ---------------------------------------------------------------------------- the world

@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The company's canonical CSV files, plus one account row that cannot be stored."""
    folder = tmp_path_factory.mktemp("company") / "files"
    outcome = generate_company(SCALE, SEED, out=folder, fmt="csv", days=DAYS)
    files = sorted(Path(p) for p in outcome.generated.files.values())
    accounts = folder / "accounts.csv"
    with accounts.open(encoding="utf-8") as fh:
        assert len(next(csv.reader(fh))) == BAD_ACCOUNT.count(",") + 1
    with accounts.open("a", encoding="utf-8") as fh:
        fh.write(BAD_ACCOUNT)
    return files


def _postgres_database() -> str:
    name = f"revloop_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}".encode())
    return name


def _drop_postgres_database(name: str) -> None:
    with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def _url(engine: str, folder: Path, pg_name: str | None) -> str:
    urls = {"duckdb": f"duckdb:///{folder / 'store.duckdb'}",
            "postgres": f"postgresql://postgres@127.0.0.1:5432/{pg_name}",
            "spark": f"spark://local?warehouse={folder / 'warehouse'}"}
    return urls[engine]


@pytest.fixture(scope="module", params=ENGINES)
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
       company: list[Path]) -> Iterator[Db]:
    """The company imported and built through the CLI on one engine (once per engine)."""
    engine: str = request.param
    folder = tmp_path_factory.mktemp(engine)
    pg_name = _postgres_database() if engine == "postgres" else None
    try:
        built = Db(engine, _url(engine, folder, pg_name), folder)
        built.docs["init"] = invoke(built.url, "init")
        built.docs["import"] = invoke(built.url, "import", "canonical", *map(str, company))
        built.docs["build"] = invoke(built.url, "build")
        yield built
    finally:
        if pg_name is not None:
            _drop_postgres_database(pg_name)


# ---------------------------------------------------------------------------- the store

def test_init_import_build(db: Db) -> None:
    init, imported, built = (db.docs[k] for k in ("init", "import", "build"))
    assert init["engine"] == db.engine and init["tables"] > 0
    counts = {name: (e["read"], e["stored"], e["quarantined"])
              for name, e in imported["entities"].items()}
    assert counts["accounts"][2] == 1 and sum(c[2] for c in counts.values()) == 1
    assert all(read == stored + quarantined for read, stored, quarantined in counts.values())
    assert built["marts"]["accounts"] == counts["accounts"][1] > 100
    agree(db, "import", counts)
    agree(db, "build", built["marts"])


def _canonical(value: Any) -> str:
    """One engine-independent spelling of a value: floats to 9 significant digits (engines add
    in different orders), times without a zone, JSON text parsed and re-dumped sorted."""
    if value is None:
        return "∅"
    if isinstance(value, float):
        return f"{value:.9g}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    text = str(value)
    if text[:1] in "{[":
        with contextlib.suppress(ValueError):
            return json.dumps(json.loads(text), sort_keys=True)
    return text


def content_hash(rows: list[dict[str, Any]]) -> str:
    """A hash of a table's rows whatever their order."""
    lines = sorted("\x1f".join(f"{k}={_canonical(v)}" for k, v in sorted(r.items()))
                   for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def test_every_mart_has_the_same_content(db: Db) -> None:
    from revloop.model.build import COUNT_ORDER
    from revloop.store import connect

    with connect(db.url) as store:
        hashes = {name: content_hash(store.to_arrow(name).to_pylist()) for name in COUNT_ORDER}
    agree(db, "mart contents", hashes)


def _without_timings(doc: Any) -> Any:
    """A result without what may differ between engines by nature: how long it took and which
    store it read."""
    if isinstance(doc, dict):
        return {k: _without_timings(v) for k, v in doc.items()
                if k not in ("timings", "seconds")
                and not (k == "source" and isinstance(v, dict) and "engine" in v)}
    if isinstance(doc, list):
        return [_without_timings(v) for v in doc]
    return _canonical(doc) if isinstance(doc, float) else doc


@pytest.mark.parametrize("args", [("funnel", "--level", "account"),
                                  ("attribute", "--level", "account")])
def test_whole_results_are_the_same(db: Db, args: tuple[str, ...]) -> None:
    doc = _without_timings(invoke(db.url, *args))
    agree(db, f"whole {' '.join(args)}",
          hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16])


def test_status_and_schema(db: Db) -> None:
    status = invoke(db.url, "status")
    assert status["engine"] == db.engine and status["quarantined"] == 1
    assert status["marts"]["contacts"] == status["raw"]["contacts"] > 0
    agree(db, "status", {k: status[k] for k in ("raw", "marts", "quarantined", "data_issues")})
    schema = invoke(db.url, "schema")
    assert {"accounts", "contacts", "touchpoints", "opportunities"} <= set(schema)


def test_quarantine_list_and_export(db: Db) -> None:
    (row,) = invoke(db.url, "quarantine", "list")
    assert (row["entity"], row["column_name"], row["value"]) == ("accounts", "employees",
                                                                 "many")
    agree(db, "quarantine", {k: row[k] for k in ("entity", "line", "column_name", "reason")})
    path = db.folder / "quarantine.csv"
    result = runner.invoke(app, ["--db", db.url, "quarantine", "export", str(path)])
    assert result.exit_code == 0, result.output
    with path.open(encoding="utf-8") as fh:
        exported = list(csv.DictReader(fh))
    assert [r["value"] for r in exported] == ["many"]


# ---------------------------------------------------------------------------- funnel, attribution

@pytest.mark.parametrize("level", ["lead", "account", "opportunity"])
def test_funnel(db: Db, level: str) -> None:
    doc = invoke(db.url, "funnel", "--level", level)
    stages = [(s["stage"], s["entered"], s["converted"], s["won"], s["open"], s["exited"])
              for s in doc["funnel"]]
    assert doc["journeys"] > 0 and stages[0][1] > 0
    agree(db, f"funnel {level}", {"journeys": doc["journeys"], "entities": doc["entities"],
                                  "stages": stages})


# both levels and both metrics in two runs (each run on Spark costs ~10 s)
@pytest.mark.parametrize(("level", "metric"), [("account", "pipeline"), ("contact", "revenue")])
def test_attribute(db: Db, level: str, metric: str) -> None:
    doc = invoke(db.url, "attribute", "--level", level, "--metric", metric)
    totals = {k: r6(v) for k, v in doc["totals"].items()}
    models = {m["model"]: (r6(m["total_conversions"]), r6(m["total_value"]), m["reconciles"])
              for m in doc["models"]}
    assert totals["conversions"] and all(m[2] for m in models.values())
    agree(db, f"attribute {level} {metric}", {"totals": totals, "models": models})


# ---------------------------------------------------------------------------- scoring

def test_score_rules(db: Db) -> None:
    doc = invoke(db.url, "score", "rules", "--rules", str(RULES))
    assert doc["contacts"] > 0 and 0 < doc["mqls"] < doc["contacts"]
    assert doc["stored"] == ["lead_scores", "lead_score_log", "lead_score_groups"]
    fired = {r["rule"]: (r["fired"], r["contacts"]) for r in doc["by_rule"]}
    agree(db, "score rules", {k: doc[k] for k in ("contacts", "mqls", "events")}
          | {"fired": fired})


def _card_figures(card: dict[str, Any]) -> tuple[Any, ...]:
    return card["model_id"], card["rows"], card["positives"], len(card["features"])


def test_score_train(db: Db) -> None:
    doc = invoke(db.url, "score", "train", "--rules", str(RULES))
    assert doc["skipped"] == {}
    trained = sorted(_card_figures(card) for card in doc["trained"])
    assert [t[0] for t in trained] == ["account_fit@1", "contact_fit@1", "engagement@1",
                                       "in_market@1", "intent@1", "opportunity_win@1"]
    agree(db, "score train", trained)


def test_score_models(db: Db) -> None:
    doc = invoke(db.url, "score", "models")
    ids = sorted(m["model_id"] for m in doc["models"])
    assert len(ids) == 6
    agree(db, "score models", ids)


def _scored(part: dict[str, Any] | None) -> Any:
    return None if part is None else (part["rows"], part["buckets"])


def test_score_apply(db: Db) -> None:
    doc = invoke(db.url, "score", "apply", "--rules", str(RULES))
    assert doc["skipped"] == {}
    assert doc["stored"] == ["contact_scores", "opportunity_scores", "account_scores"]
    accounts = doc["accounts"]
    assert accounts["rows"] == db.docs["build"]["marts"]["accounts"]
    agree(db, "score apply", {
        "as_of": doc["as_of"], "contact_fit": _scored(doc["contact_fit"]),
        "opportunity_win": _scored(doc["opportunity_win"]), "accounts": accounts["rows"],
        "six_qa": accounts["six_qa"], "stages": accounts["buying_stages"],
        "fit_levels": accounts["fit_levels"]})


def test_score_explain(db: Db) -> None:
    doc = invoke(db.url, "score", "explain", "acc-000001", "--rules", str(RULES))
    assert doc["kind"] == "account"
    models = {name: (d["model"], d["bucket"], r6(d["score"]))
              for name, d in doc["models"].items()}
    assert set(models) == {"account_fit", "engagement", "intent", "in_market"}
    agree(db, "score explain", models)


@pytest.mark.parametrize("model", ["contact", "opportunity", "accounts"])
def test_score_evaluate(db: Db, model: str) -> None:
    doc = invoke(db.url, "score", "evaluate", model, "--rules", str(RULES), "--folds", "3",
                 "--snapshots", "1")
    figures = {ev["model"]: (ev["metrics"]["n"], ev["metrics"]["positives"],
                             r6(ev["metrics"]["auc"]))
               for ev in doc["evaluations"]}
    assert all(n > 0 and 0 < pos < n for n, pos, _ in figures.values())
    agree(db, f"score evaluate {model}", figures)
