"""Multi-file imports: each file lands on its own; header-only and empty files are fine;
``all_or_nothing`` keeps one transaction; ``read`` counts rows; repeated header labels."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revloop.errors import InputFileError
from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import ImportOptions, ImportResult, run_import
from revloop.interfaces.cli import app
from revloop.store import Store
from tests.conftest import make_store
from tests.ingest.helpers import canonical, quarantined, snapshot, write

ACCOUNTS = "Id,Name,CreatedDate\n" + "".join(
    f"001A{i},Acme {i},2024-01-0{i}T10:00:00.000Z\n" for i in range(1, 6))
CONTACTS = "Id,FirstName,LastName,Email,AccountId,CreatedDate\n" + "".join(
    f"003A{i},Ann,Lee{i},a{i}@example.com,001A1,2024-02-01T10:00:00.000Z\n" for i in range(1, 4))
NO_ID = "Name,StageName,Amount,CloseDate\nBig deal,Prospecting,100,2024-05-01\n"


def _export(folder: Path) -> list[Path]:
    """A Salesforce Data Export: two good files, a header-only one, an empty one, and an
    Opportunity file missing its required ``Id`` column."""
    return [write(folder / "Account.csv", ACCOUNTS), write(folder / "Contact.csv", CONTACTS),
            write(folder / "Campaign.csv", "Id,Name,Type,StartDate\n"),
            write(folder / "Task.csv", ""), write(folder / "Opportunity.csv", NO_ID)]


def _sf(store: Store, paths: list[Path], all_or_nothing: bool = False) -> ImportResult:
    return run_import(store, get_adapter("salesforce"), paths,
                      ImportOptions(all_or_nothing=all_or_nothing))


@pytest.fixture(params=["duckdb", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    pg = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    s = make_store(request.param, tmp_path, pg)
    request.addfinalizer(s.close)
    return s


def test_a_bad_file_is_reported_and_the_others_land(store: Store, tmp_path: Path) -> None:
    result = _sf(store, _export(tmp_path))
    assert [Path(f.path).name for f in result.files] == [
        "Account.csv", "Contact.csv", "Campaign.csv", "Task.csv"]
    assert [(Path(f.path).name, f.code) for f in result.not_imported] == [
        ("Opportunity.csv", "missing_column")]
    assert "missing required column 'Id'" in result.not_imported[0].message
    assert store.count("raw_accounts") == 5 and store.count("raw_contacts") == 3
    assert store.count("raw_opportunities") == 0
    assert {k: (c.read, c.stored) for k, c in result.entities.items()} == {
        "accounts": (5, 5), "contacts": (3, 3), "campaigns": (0, 0)}
    assert result.reconciles and not result.complete
    # one log row per landed file, one import id for the command
    log = store.table("imports").to_pyarrow().to_pylist()
    assert sorted(Path(json.loads(r["files"])[0]).name for r in log) == [
        "Account.csv", "Campaign.csv", "Contact.csv", "Task.csv"]
    assert {r["import_id"] for r in log} == {result.import_id}
    # the same import again changes nothing
    before = snapshot(store)
    again = _sf(store, _export(tmp_path))
    assert again.total("stored") == 0 and again.total("duplicates") == 8
    assert snapshot(store) == before


def test_all_or_nothing_writes_nothing(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    with pytest.raises(InputFileError) as info:
        _sf(store, _export(tmp_path), all_or_nothing=True)
    assert info.value.code == "missing_column"
    assert snapshot(store) == before and store.count("imports") == 0


def test_all_or_nothing_without_bad_files_is_one_log_row(store: Store, tmp_path: Path) -> None:
    result = _sf(store, _export(tmp_path)[:4], all_or_nothing=True)
    assert result.total("stored") == 8 and result.complete
    (log,) = store.table("imports").to_pyarrow().to_pylist()
    assert len(json.loads(log["files"])) == 4 and log["stored"] == 8


def test_a_file_that_breaks_while_read_rolls_back_alone(store: Store, tmp_path: Path) -> None:
    good = write(tmp_path / "Account.csv", ACCOUNTS)
    # a truncated gzip stream: found only while reading, after the header
    blob = gzip.compress(CONTACTS.encode() * 2000)
    broken = write(tmp_path / "Contact.csv", blob[: len(blob) // 2])
    result = _sf(store, [good, broken])
    assert [f.code for f in result.not_imported] == ["unreadable_file"]
    assert store.count("raw_accounts") == 5 and store.count("raw_contacts") == 0


def test_read_counts_rows_not_problems(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", "account_id,name,employees,annual_revenue,created_at\n"
                 "a1,A,x,-5,notadate\na2,B,10,100,2024-01-01\na3,C,y,-1,2024-01-01\n")
    counts = canonical(duck, path).entities["accounts"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 1, 2)
    assert len({(q["line"]) for q in quarantined(duck)}) == 2


def test_repeated_header_labels_are_kept_apart(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv",
                 "account_id,name,Billing Contact,Billing Contact,Email,email\n"
                 "a1,Acme,c1,c2,x@acme.example,y@acme.example\n")
    result = canonical(duck, path)
    (row,) = duck.table("raw_accounts").to_pyarrow().to_pylist()
    assert json.loads(row["custom"]) == {"Billing Contact": "c1", "Billing Contact (2)": "c2",
                                         "Email": "x@acme.example",
                                         "email (2)": "y@acme.example"}
    assert any("'Billing Contact (2)'" in n for n in result.files[0].notices)


def test_jsonl_repeated_key_is_kept(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.jsonl", '{"account_id": "a1", "tier": "1", "tier": "2"}\n')
    result = canonical(duck, path)
    (row,) = duck.table("raw_accounts").to_pyarrow().to_pylist()
    assert json.loads(row["custom"]) == {"tier": "1", "tier (2)": "2"}
    assert any("'tier (2)'" in n for n in result.files[0].notices)


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"duckdb:///{tmp_path / 's.duckdb'}"
    paths = [str(p) for p in _export(tmp_path / "x")]
    some = runner.invoke(app, ["--db", db, "import", "salesforce", *paths, "--json"])
    assert some.exit_code == 4, some.output
    doc = json.loads(some.stdout)
    assert [f["code"] for f in doc["not_imported"]] == ["missing_column"] and not doc["complete"]
    good = runner.invoke(app, ["--db", db, "import", "salesforce", *paths[:4]])
    assert good.exit_code == 0, good.output
    one = runner.invoke(app, ["--db", db, "import", "salesforce", paths[4]])
    assert one.exit_code == 2 and "error[missing_column]" in one.output
    none = runner.invoke(app, ["--db", db, "import", "salesforce", paths[4], paths[4]])
    assert none.exit_code == 4 and none.output.count("error[missing_column]") == 2
