"""Dates as real CRM exports write them: the order of day and month decided per file.

Fixtures are the shapes seen in real files (a US Salesforce Opportunity export, a European
one, HubSpot UI exports, Excel spellings); stored values are compared exactly, and the
property test checks the import against ``datetime.strptime`` value by value.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from revloop.errors import InputFileError
from revloop.ingest.adapters import get_adapter
from revloop.ingest.adapters.mapped import MappedAdapter, load_mapping
from revloop.ingest.dates import DateOptions, plan_date_formats
from revloop.ingest.pipeline import ImportOptions, ImportResult, run_import
from revloop.ingest.readers import ReadOptions, open_file
from revloop.interfaces.cli import app
from revloop.store import Store, connect
from tests.ingest.helpers import quarantined, write

D, T = dt.date, dt.datetime

# A US Salesforce Opportunity export (report and data-export spellings mixed, as seen).
US_OPPORTUNITY = """\
Id,Name,StageName,Amount,CloseDate,CreatedDate
006A,Acme,Closed Won,1000,02/03/2024,02/01/2024 09:15 AM
006B,Globex,Prospecting,2000,12/01/2024,11/28/2024 4:05 PM
006C,Initech,Negotiation,3000,03/31/2026,02/23/26 08:55 PM
006D,Umbrella,Prospecting,4000,3/5/2024,"3/5/2024, 2:22 PM"
006E,Hooli,Closed Lost,5000,2024-03-05,3/5/2024 2:22:10 pm
006F,Stark,Prospecting,6000,,2024-03-05T14:22:10.000+0000
"""


def _import(store: Store, source: str, path: Path, dates: DateOptions | None = None,
            **read: Any) -> ImportResult:
    return run_import(store, get_adapter(source), [path],
                      ImportOptions(read=ReadOptions(**read), dates=dates or DateOptions()))


def _rows(store: Store, table: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in store.table(table).to_pyarrow().to_pylist()}


def _dates(store: Store, table: str, key: str, *columns: str) -> dict[str, tuple[Any, ...]]:
    return {k: tuple(r[c] for c in columns) for k, r in _rows(store, table, key).items()}


# -- the real shapes ------------------------------------------------------------------------

def test_us_salesforce_opportunity_export_is_read_month_first(duck: Store,
                                                                tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv", US_OPPORTUNITY)
    result = _import(duck, "salesforce", path)
    assert (result.total("stored"), result.total("quarantined")) == (6, 0)
    assert _dates(duck, "raw_opportunities", "opportunity_id", "close_date", "created_at") == {
        "006A": (D(2024, 2, 3), T(2024, 2, 1, 9, 15)),
        "006B": (D(2024, 12, 1), T(2024, 11, 28, 16, 5)),
        "006C": (D(2026, 3, 31), T(2026, 2, 23, 20, 55)),
        "006D": (D(2024, 3, 5), T(2024, 3, 5, 14, 22)),
        "006E": (D(2024, 3, 5), T(2024, 3, 5, 14, 22, 10)),
        "006F": (None, T(2024, 3, 5, 14, 22, 10)),
    }


def test_european_salesforce_export_is_read_day_first(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv", (
        "Id;CloseDate;CreatedDate\n"
        "006A;05.03.2024;05.03.2024 14:22\n"
        "006B;31.12.2024;1.2.2024 08:05\n"
        "006C;02.03.2024;2024-03-05T14:22:10.000+0000\n"))
    _import(duck, "salesforce", path, delimiter=";")
    assert _dates(duck, "raw_opportunities", "opportunity_id", "close_date", "created_at") == {
        "006A": (D(2024, 3, 5), T(2024, 3, 5, 14, 22)),
        "006B": (D(2024, 12, 31), T(2024, 2, 1, 8, 5)),
        "006C": (D(2024, 3, 2), T(2024, 3, 5, 14, 22, 10)),
    }


def test_an_ambiguous_file_follows_the_other_files_of_its_export(duck: Store,
                                                                  tmp_path: Path) -> None:
    # one export, one locale: the history file's dates could be read either way, the
    # opportunities' cannot (11/28/2024), so the history is read month first too
    us = write(tmp_path / "Opportunity.csv", US_OPPORTUNITY)
    history = write(tmp_path / "OpportunityHistory.csv",
                    "Id,OpportunityId,StageName,CreatedDate\n"
                    "008A,006A,Prospecting,02/01/2024 09:15 AM\n"
                    "008B,006A,Closed Won,02/03/2024 10:00 AM\n")
    result = run_import(duck, get_adapter("salesforce"), [history, us], ImportOptions())
    assert result.complete and result.reconciles
    moves = {r["transition_id"]: r["occurred_at"]
             for r in duck.table("raw_stage_transitions").to_pyarrow().to_pylist()}
    assert moves == {"008A": T(2024, 2, 1, 9, 15), "008B": T(2024, 2, 3, 10, 0)}
    (notice,) = [n for f in result.files if f.path.endswith("History.csv") for n in f.notices
                 if "either way" in n]
    assert "read month first, as Opportunity.csv of this import is written (line 3: " \
           "'11/28/2024 4:05 PM')" in notice


def test_files_that_disagree_settle_nothing(duck: Store, tmp_path: Path) -> None:
    us = write(tmp_path / "Opportunity.csv", US_OPPORTUNITY)
    eu = write(tmp_path / "Account.csv", "Id,Name,CreatedDate\n001A,A,31/01/2024 10:00\n")
    vague = write(tmp_path / "OpportunityHistory.csv",
                  "Id,OpportunityId,StageName,CreatedDate\n008A,006A,Prospecting,02/01/2024\n")
    result = run_import(duck, get_adapter("salesforce"), [us, eu, vague], ImportOptions())
    assert [f.code for f in result.not_imported] == ["ambiguous_dates"]
    assert result.not_imported[0].path.endswith("OpportunityHistory.csv")


def test_a_file_ambiguous_everywhere_is_refused(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv",
                 "Id,CloseDate,CreatedDate\n006A,02/03/2024,2024-01-01\n006B,12/01/2024,\n")
    with pytest.raises(InputFileError) as err:
        _import(duck, "salesforce", path)
    assert err.value.code == "ambiguous_dates"
    msg = str(err.value)
    assert msg.startswith(f"{path}: ")
    for part in ("'CloseDate'", "02/03/2024", "12/01/2024", "--dayfirst", "--monthfirst",
                 "--date-format"):
        assert part in msg, part
    assert duck.table("raw_opportunities").count().execute() == 0


def test_both_orders_in_one_column_name_a_line_of_each(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv",
                 "Id,CloseDate\n006A,01/02/2024\n006B,02/23/2024\n006C,23/02/2024\n")
    with pytest.raises(InputFileError) as err:
        _import(duck, "salesforce", path)
    assert err.value.code == "mixed_date_order"
    msg = str(err.value)
    assert "'CloseDate'" in msg
    assert "line 4: '23/02/2024'" in msg and "line 3: '02/23/2024'" in msg


def test_both_orders_in_one_file_name_both_columns(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv",
                 "Id,CloseDate,CreatedDate\n006A,28/02/2024,01/01/2024 10:00\n"
                 "006B,01/03/2024,02/13/2024 10:00\n")
    with pytest.raises(InputFileError) as err:
        _import(duck, "salesforce", path)
    assert err.value.code == "mixed_date_order"
    msg = str(err.value)
    assert "'CloseDate'" in msg and "line 2: '28/02/2024'" in msg
    assert "'CreatedDate'" in msg and "line 3: '02/13/2024 10:00'" in msg


def test_a_late_numeric_value_after_iso_batches_is_not_missed(duck: Store,
                                                               tmp_path: Path) -> None:
    iso = "".join(f"006{i:05d},2024-01-{1 + i % 28:02d}\n" for i in range(3000))
    path = write(tmp_path / "Opportunity.csv", "Id,CloseDate\n" + iso + "007,02/03/2024\n")
    with pytest.raises(InputFileError) as err:  # many small batches: the last one decides
        _import(duck, "salesforce", path, block_bytes=4096)
    assert err.value.code == "ambiguous_dates"
    path.write_text("Id,CloseDate\n" + iso + "007,02/03/2024\n008,02/13/2024\n")
    result = _import(duck, "salesforce", path, block_bytes=4096)
    assert result.total("stored") == 3002
    assert _dates(duck, "raw_opportunities", "opportunity_id", "close_date")["007"] == (
        D(2024, 2, 3),)


def test_the_pre_pass_leaves_the_files_own_reading_alone(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv",
                 "Id,CloseDate\n006A,02/13/2024\n006B,02/14/2024,extra\n006C,02/15/2024\n")
    result = _import(duck, "salesforce", path)
    counts = result.entities["opportunities"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 2, 1)
    assert [(q["line"], q["code"]) for q in quarantined(duck)] == [(3, "wrong_field_count")]


def test_excel_spellings(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "opportunities.csv", (
        "opportunity_id,close_date,created_at\n"
        "o1,5-Mar-2024,3/5/2024 14:22\n"
        "o2,\"Mar 5, 2024\",3/25/2024 9:05\n"
        "o3,2024/03/05,2024/03/05 14:22\n"
        "o4,05-Mar-24,\"March 5, 2024\"\n"))
    result = _import(duck, "canonical", path)
    assert result.total("quarantined") == 0
    assert _dates(duck, "raw_opportunities", "opportunity_id", "close_date", "created_at") == {
        "o1": (D(2024, 3, 5), T(2024, 3, 5, 14, 22)),
        "o2": (D(2024, 3, 5), T(2024, 3, 25, 9, 5)),
        "o3": (D(2024, 3, 5), T(2024, 3, 5, 14, 22)),
        "o4": (D(2024, 3, 5), T(2024, 3, 5)),
    }


def test_two_digit_years_pivot_as_python_strptime(duck: Store, tmp_path: Path) -> None:
    values = ["01/15/68", "01/15/69", "12/31/00", "12/31/99"]
    rows = "".join(f"a{i},{v}\n" for i, v in enumerate(values))
    _import(duck, "canonical", write(tmp_path / "accounts.csv", "account_id,created_at\n" + rows))
    got = _dates(duck, "raw_accounts", "account_id", "created_at")
    assert got == {f"a{i}": (dt.datetime.strptime(v, "%m/%d/%y"),) for i, v in enumerate(values)}
    assert got["a0"] == (T(2068, 1, 15),) and got["a1"] == (T(1969, 1, 15),)


def test_impossible_days_are_quarantined_not_rolled_over(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv",
                 "account_id,created_at\na1,02/29/2023\na2,02/29/2024\na3,04/31/2024\n"
                 "a4,12/13/2024\n")
    _import(duck, "canonical", path)
    assert _dates(duck, "raw_accounts", "account_id", "created_at") == {
        "a2": (T(2024, 2, 29),), "a4": (T(2024, 12, 13),)}
    bad = quarantined(duck)
    assert [(q["line"], q["value"]) for q in bad] == [(2, "02/29/2023"), (4, "04/31/2024")]
    assert "(%m/%d/%Y: month first)" in bad[0]["reason"]


# -- derived date columns (the adapter's prepare) -------------------------------------------

def test_salesforce_lead_conversion_date_is_planned_too(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "Lead.csv", (
        "Id,LastName,CreatedDate,IsConverted,ConvertedDate\n"
        "00Q1,Ada,2024-01-10T09:00:00.000Z,true,02/03/2024\n"
        "00Q2,Bob,2024-01-10T09:00:00.000Z,true,02/13/2024\n"))
    _import(duck, "salesforce", path)
    assert _dates(duck, "raw_contacts", "contact_id", "converted_at") == {
        "00Q1": (T(2024, 2, 3),), "00Q2": (T(2024, 2, 13),)}
    path.write_text("Id,LastName,CreatedDate,IsConverted,ConvertedDate\n"
                    "00Q1,Ada,2024-01-10T09:00:00.000Z,true,02/03/2024\n")
    with pytest.raises(InputFileError) as err:
        _import(duck, "salesforce", path)
    assert err.value.code == "ambiguous_dates" and "'converted_at'" in str(err.value)


def test_salesforce_task_time_from_derived_columns(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "Task.csv", (
        "Id,WhoId,ActivityDate,CreatedDate\n"
        "00T1,003A,13/02/2024,01/02/2024 10:00\n"
        "00T2,003A,,02/03/2024 11:30\n"))
    _import(duck, "salesforce", path)
    assert _dates(duck, "raw_touchpoints", "touchpoint_id", "occurred_at") == {
        "00T1": (T(2024, 2, 13),), "00T2": (T(2024, 3, 2, 11, 30),)}


# -- HubSpot and Parquet ---------------------------------------------------------------------

def test_hubspot_keeps_its_formats_and_gets_the_files_order(duck: Store,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path / "deals.csv", (
        "hs_object_id,createdate,closedate\n"
        "1,1709648530000,03/05/2024 14:22\n"
        "2,2024-03-05 14:22,03/25/2024 09:00\n"))
    src = open_file(path)
    adapter = get_adapter("hubspot")
    (deals, *_) = plan_date_formats(src, adapter.specs_for(src), DateOptions())
    assert list(deals.formats["close_date"])[:2] == ["epoch_ms", "iso"]
    assert list(deals.formats["close_date"])[-1] == "%m/%d/%Y %H:%M"
    _import(duck, "hubspot", path)
    assert _dates(duck, "raw_opportunities", "opportunity_id", "created_at", "close_date") == {
        "1": (T(2024, 3, 5, 14, 22, 10), D(2024, 3, 5)),
        "2": (T(2024, 3, 5, 14, 22), D(2024, 3, 25)),
    }


def test_parquet_text_dates_are_planned_and_typed_ones_left_alone(duck: Store,
                                                                  tmp_path: Path) -> None:
    table = pa.table({
        "opportunity_id": ["o1", "o2"],
        "close_date": pa.array(["13/02/2024", "02/03/2024"]).dictionary_encode(),
        "created_at": pa.array([T(2024, 1, 1, 9), T(2024, 1, 2, 9)], pa.timestamp("us")),
    })
    pq.write_table(table, tmp_path / "opportunities.parquet")
    _import(duck, "canonical", tmp_path / "opportunities.parquet")
    assert _dates(duck, "raw_opportunities", "opportunity_id", "close_date", "created_at") == {
        "o1": (D(2024, 2, 13), T(2024, 1, 1, 9)), "o2": (D(2024, 3, 2), T(2024, 1, 2, 9))}


# -- what the user says: the CLI ---------------------------------------------------------------

def _cli(tmp_path: Path, *args: str) -> tuple[int, str, Store]:
    db = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    result = CliRunner().invoke(app, ["--db", db, "import", *args, "--json"])
    return result.exit_code, result.output, connect(db)


AMBIGUOUS = "Id,CloseDate,CreatedDate\n006A,02/03/2024,02/01/2024 09:15\n006B,12/01/2024,\n"


@pytest.mark.parametrize(("flag", "expected"), [
    ("--monthfirst", {"006A": (D(2024, 2, 3), T(2024, 2, 1, 9, 15)),
                      "006B": (D(2024, 12, 1), None)}),
    ("--dayfirst", {"006A": (D(2024, 3, 2), T(2024, 1, 2, 9, 15)),
                    "006B": (D(2024, 1, 12), None)}),
])
def test_cli_dayfirst_and_monthfirst_read_an_ambiguous_file(
        tmp_path: Path, flag: str, expected: dict[str, tuple[Any, ...]]) -> None:
    path = write(tmp_path / "Opportunity.csv", AMBIGUOUS)
    code, out, store = _cli(tmp_path, "salesforce", str(path), flag)
    try:
        assert code == 0, out
        assert json.loads(out)["stored"] == 2
        assert _dates(store, "raw_opportunities", "opportunity_id", "close_date",
                      "created_at") == expected
    finally:
        store.close()


def test_cli_refuses_an_ambiguous_file_with_its_code(tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv", AMBIGUOUS)
    code, out, store = _cli(tmp_path, "salesforce", str(path))
    store.close()
    assert code != 0
    assert "ambiguous_dates" in out and "--monthfirst" in out


def test_cli_monthfirst_quarantines_a_day_first_value_naming_the_format(tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv", "Id,CloseDate\n006A,02/03/2024\n006B,31/03/2024\n")
    code, out, store = _cli(tmp_path, "salesforce", str(path), "--monthfirst")
    try:
        assert code == 0, out
        (bad,) = quarantined(store)
        assert (bad["line"], bad["value"], bad["code"]) == (3, "31/03/2024", "unparseable_date")
        assert "(%m/%d/%Y: month first)" in bad["reason"]
        assert _dates(store, "raw_opportunities", "opportunity_id", "close_date") == {
            "006A": (D(2024, 2, 3),)}
    finally:
        store.close()


def test_cli_date_format_overrides_every_date_column(tmp_path: Path) -> None:
    path = write(tmp_path / "Opportunity.csv",
                 "Id,CloseDate,CreatedDate\n006A,02/03/2024,02/01/2024\n"
                 "006B,12/01/2024,2024-01-01\n")
    code, out, store = _cli(tmp_path, "salesforce", str(path), "--date-format", "%m/%d/%Y")
    try:
        assert code == 0, out
        assert _dates(store, "raw_opportunities", "opportunity_id", "close_date",
                      "created_at") == {"006A": (D(2024, 2, 3), T(2024, 2, 1))}
        (bad,) = quarantined(store)  # ISO is not the format given
        assert (bad["line"], bad["column_name"]) == (3, "created_at")
        assert bad["reason"] == "created_at is not a date/time in a known format (%m/%d/%Y)"
    finally:
        store.close()


def test_date_format_iso_and_epoch_formats_dropped(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "deals.csv", "hs_object_id,createdate\n1,1709648530000\n"
                 "2,2024-03-05 14:22\n")
    src = open_file(path)
    specs = plan_date_formats(src, get_adapter("hubspot").specs_for(src),
                              DateOptions(date_format="ISO"))
    assert specs[0].formats["created_at"] == ["iso"]
    _import(duck, "hubspot", path, DateOptions(date_format="iso"))
    assert _dates(duck, "raw_opportunities", "opportunity_id", "created_at") == {
        "2": (T(2024, 3, 5, 14, 22),)}


# -- mappings ------------------------------------------------------------------------------

MAPPING = """\
name: shop
files:
  - match: "deals*.csv"
    date_format: "%d/%m/%Y"
    entities:
      - entity: opportunities
        fields:
          opportunity_id: id
          close_date: closed
          created_at: {column: opened, format: "%Y%m%d"}
        types: {renewal_on: date}
        custom: rest
  - match: "leads*.csv"
    entities:
      - entity: contacts
        date_format: ["%m/%d/%Y %H:%M", "%m/%d/%Y"]
        fields:
          contact_id: id
          created_at: created
"""


def test_mapped_date_format_per_file_entity_and_field(duck: Store, tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", MAPPING)
    adapter = MappedAdapter(load_mapping(mapping))
    deals = write(tmp_path / "deals.csv",
                  "id,closed,opened,renewal_on\nd1,02/03/2024,20240105,01/02/2025\n"
                  "d2,12/01/2024,20240106,13/01/2025\n")
    leads = write(tmp_path / "leads.csv", "id,created\nc1,02/03/2024 10:00\nc2,02/04/2024\n")
    result = run_import(duck, adapter, [deals, leads])
    assert result.total("quarantined") == 0
    assert _dates(duck, "raw_opportunities", "opportunity_id", "close_date", "created_at") == {
        "d1": (D(2024, 3, 2), T(2024, 1, 5)), "d2": (D(2024, 1, 12), T(2024, 1, 6))}
    assert _dates(duck, "raw_contacts", "contact_id", "created_at") == {
        "c1": (T(2024, 2, 3, 10),), "c2": (T(2024, 2, 4),)}
    bad = write(tmp_path / "deals2.csv", "id,closed,opened,renewal_on\nd3,,,02/30/2025\n")
    run_import(duck, adapter, [bad])
    assert [(q["column_name"], q["code"]) for q in quarantined(duck)] == [
        ("renewal_on", "unparseable_date")]


def test_mapped_without_date_format_is_planned_like_any_file(duck: Store,
                                                             tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", MAPPING.replace('    date_format: "%d/%m/%Y"\n', ""))
    deals = write(tmp_path / "deals.csv", "id,closed,opened\nd1,02/03/2024,20240105\n")
    with pytest.raises(InputFileError) as err:
        run_import(duck, MappedAdapter(load_mapping(mapping)), [deals])
    assert err.value.code == "ambiguous_dates" and "'closed'" in str(err.value)


# -- the property ----------------------------------------------------------------------------

STYLES = {  # how a US export may write its values: (strftime of the test, strptime oracle)
    "date": ("{m}/{d}/{Y}", "%m/%d/%Y"),
    "short_year": ("{m}/{d}/{y}", "%m/%d/%y"),
    "minutes": ("{m}/{d}/{Y} {H}:{M}", "%m/%d/%Y %H:%M"),
    "ampm": ("{m}/{d}/{y} {I}:{M} {p}", "%m/%d/%y %I:%M %p"),
    "report": ("{m}/{d}/{Y}, {I}:{M} {p}", "%m/%d/%Y, %I:%M %p"),
    "seconds": ("{m}/{d}/{Y} {I}:{M}:{S} {p}", "%m/%d/%Y %I:%M:%S %p"),
}


def _spell(moment: dt.datetime, style: str, pad: bool) -> str:
    def two(n: int) -> str:
        return f"{n:02d}" if pad else str(n)
    hour12 = moment.hour % 12 or 12
    return STYLES[style][0].format(
        m=two(moment.month), d=two(moment.day), Y=moment.year, y=f"{moment.year % 100:02d}",
        H=two(moment.hour), I=two(hour12), M=f"{moment.minute:02d}",
        S=f"{moment.second:02d}", p="AM" if moment.hour < 12 else "PM")


MOMENTS = st.datetimes(min_value=T(1970, 1, 1), max_value=T(2068, 12, 31)).map(
    lambda m: m.replace(microsecond=0))


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MOMENTS, min_size=1, max_size=20), st.integers(13, 28),
       st.lists(st.sampled_from(sorted(STYLES)), min_size=1, max_size=3), st.booleans())
def test_month_first_dates_come_back_as_written(moments: list[dt.datetime], late_day: int,
                                                styles: list[str], pad: bool) -> None:
    moments = [*moments, moments[0].replace(day=late_day)]  # one day over 12: decides
    cells = [_spell(m, styles[i % len(styles)], pad) for i, m in enumerate(moments)]
    # the oracle: Python's own strptime, value by value
    oracle = {f"a{i}": dt.datetime.strptime(c, STYLES[styles[i % len(styles)]][1])
              for i, c in enumerate(cells)}
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "accounts.csv", "account_id,created_at\n" + "".join(
            f'a{i},"{c}"\n' for i, c in enumerate(cells)))
        store = connect(f"duckdb:///{Path(tmp) / 'store.duckdb'}")
        try:
            result = _import(store, "canonical", path)
            assert result.total("quarantined") == 0, quarantined(store)
            got = {k: v[0] for k, v in _dates(store, "raw_accounts", "account_id",
                                                "created_at").items()}
        finally:
            store.close()
    assert got == oracle
