"""Real Salesforce export shapes (Data Export, Fivetran, Airbyte) through import, build and the
funnel: empty lookups, lead statuses, opportunity types, loss reasons, users and teams, history
rows of one second, header case, ELT layouts and currency rates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from revloop import facade
from revloop.errors import ConfigError, InputFileError
from revloop.facade import funnel
from revloop.ingest.adapters.salesforce import SalesforceAdapter
from revloop.ingest.pipeline import ImportResult, run_import
from revloop.settings import FunnelSettings, Settings, load_settings
from revloop.store import Store, connect
from tests.ingest.sf_exports_data import (
    ACCOUNT,
    AIRBYTE_OPPORTUNITY,
    CURRENCY_TYPE,
    DATED_RATE,
    EMPTY,
    FIVETRAN_OPPORTUNITY,
    HISTORY,
    LEAD,
    OPPORTUNITY,
    USER,
    USER_ROLE,
    Table,
    drop_column,
    recase,
    write_csv,
)

SETTINGS = Settings()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = connect("duckdb:///" + str(tmp_path / "t.duckdb"))
    yield s
    s.close()


def load(store: Store, tmp_path: Path, files: dict[str, Table],
         layout: str | None = None) -> ImportResult:
    paths = [write_csv(tmp_path / name, table) for name, table in files.items()]
    result = facade.import_files(store, "salesforce", paths, layout=layout, settings=SETTINGS)
    assert result.reconciles
    return result


def mart(store: Store, table: str, key: str) -> dict[Any, dict[str, Any]]:
    df = store.table(table).to_pandas()
    records = df.astype(object).where(df.notna(), None).to_dict("records")
    return {r[key]: r for r in records}


def notices(result: ImportResult) -> list[str]:
    return [n for f in result.files for n in f.notices]


def short(lead_id: str) -> str:
    """``00Q000000000011AAA`` → ``11``."""
    return lead_id[-5:-3]


# -- 1. empty lookups --------------------------------------------------------------------------

def test_empty_lookup_ids_are_null_and_raise_no_data_issues(tmp_path: Path,
                                                             store: Store) -> None:
    load(store, tmp_path, {"Lead.csv": LEAD, "Opportunity.csv": OPPORTUNITY,
                           "Account.csv": ACCOUNT, "User.csv": USER})
    facade.build_model(store, SETTINGS)
    leads = mart(store, "contacts", "contact_id")
    first = leads["00Q000000000001AAA"]
    assert (first["account_id"], first["converted_contact_id"],
            first["converted_opportunity_id"]) == (None, None, None)
    converted = leads["00Q000000000011AAA"]
    assert converted["account_id"] == "001000000000001AAA"
    assert converted["converted_opportunity_id"] == "006000000000001AAA"
    opps = mart(store, "opportunities", "opportunity_id")
    assert {o["primary_campaign_id"] for o in opps.values()} == {None}
    assert mart(store, "accounts", "account_id")["001000000000001AAA"][
        "parent_account_id"] is None
    users = mart(store, "users", "user_id")
    assert (users["005000000000003AAA"]["team_id"],
            users["005000000000003AAA"]["manager_id"]) == (None, None)
    issues = store.table("data_issues").to_pandas()
    assert not issues["value"].astype(str).str.startswith("000000000000000").any()
    for table in ("raw_contacts", "raw_opportunities", "raw_accounts", "raw_users"):
        text = store.table(table).to_pandas().astype(str)
        assert not text.apply(lambda c: c.str.contains(EMPTY[:15])).any().any(), table


def test_empty_lookups_in_members_and_activities(tmp_path: Path, store: Store) -> None:
    member = (["Id", "CampaignId", "LeadId", "ContactId", "Status"],
              [["00v1", "701000000000001AAA", "00Q000000000001AAA", EMPTY, "Sent"]])
    task = (["Id", "WhoId", "WhatId", "AccountId", "Subject", "ActivityDate", "CreatedDate"],
            [["00T1", EMPTY, EMPTY, EMPTY, "Call", "2024-01-05", "2024-01-05T09:00:00.000Z"]])
    load(store, tmp_path, {"CampaignMember.csv": member, "Task.csv": task})
    members = store.table("raw_campaign_members").to_pandas()
    assert list(members["contact_id"]) == ["00Q000000000001AAA"]  # the lead, not the empty id
    touch = mart(store, "raw_touchpoints", "touchpoint_id")["00T1"]
    assert (touch["contact_id"], touch["account_id"]) == (None, None)
    assert "WhatId" not in json.loads(touch["properties"])  # empty: left out
    assert json.loads(touch["properties"])["Subject"] == "Call"


# -- 2. lead status → transitions ----------------------------------------------------------------

def test_lead_status_becomes_a_reconstructed_transition(tmp_path: Path, store: Store) -> None:
    result = load(store, tmp_path, {"Lead.csv": LEAD})
    # the deleted lead (IsDeleted true) is skipped before anything is read
    assert result.entities["contacts"].read == 11
    assert "1 deleted row skipped" in " ".join(notices(result))
    df = store.table("raw_stage_transitions").to_pandas()
    moves = {(short(r.entity_id), r.to_stage): (r.occurred_at.to_pydatetime(),
                                                bool(r.reconstructed))
             for r in df.itertuples()}
    status = {k: v for k, v in moves.items() if v[1]}
    assert status == {
        ("02", "sal"): (datetime(2024, 1, 10, 11), True),  # LastModifiedDate
        ("03", "sal"): (datetime(2024, 1, 12), True),  # no LastModifiedDate: LastActivityDate
        ("04", "sal"): (datetime(2024, 1, 5, 9), True),  # neither: CreatedDate
        ("05", "recycled"): (datetime(2024, 1, 15, 10), True),
        ("06", "recycled"): (datetime(2024, 1, 16, 10), True),
        ("07", "disqualified"): (datetime(2024, 1, 17, 10), True),
        ("08", "disqualified"): (datetime(2024, 1, 18, 10), True),
        ("09", "disqualified"): (datetime(2024, 1, 19, 10), True),
        ("10", "sql"): (datetime(2024, 1, 20, 10), True),
    }
    inquiries = {k[0] for k, v in moves.items() if k[1] == "inquiry" and not v[1]}
    assert inquiries == {f"{i:02d}" for i in range(1, 12)}
    # '2022-12-21 00:00:00' is the creation day: the conversion is at the creation time
    assert moves[("11", "converted")] == (datetime(2022, 12, 21, 15, 30), False)
    assert len(df) == 11 + 9 + 1
    assert set(df["transition_id"].isna()) == {True}
    lead = mart(store, "raw_contacts", "contact_id")["00Q000000000011AAA"]
    assert lead["converted_at"] == lead["created_at"] == datetime(2022, 12, 21, 15, 30)


def test_funnel_counts_sal_recycled_and_disqualified(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, {"Lead.csv": LEAD})
    facade.build_model(store, SETTINGS)
    result = funnel.run(store, funnel.build_request(SETTINGS), settings=SETTINGS)
    rows = {r.stage: (r.entered, r.observed) for r in result.funnel}
    assert rows["inquiry"] == (11, 11)
    # Working - Contacted, Contacted, Working are SAL; Qualified (SQL) and the converted
    # lead passed through it
    assert rows["sal"] == (5, 3)
    assert rows["sql"] == (2, 2)
    leakage = {(r.stage, r.exit): r.events for r in result.leakage}
    assert leakage == {("inquiry", "recycled"): 2, ("inquiry", "disqualified"): 3}
    assert result.unmapped == []


def test_unknown_status_is_kept_for_the_funnel_value_maps(tmp_path: Path,
                                                          store: Store) -> None:
    header, rows = LEAD
    custom = (header, [[*rows[1][:6], "MQL Ready", *rows[1][7:]]])
    load(store, tmp_path, {"Lead.csv": custom})
    facade.build_model(store, SETTINGS)
    moves = {r.to_stage for r in store.table("stage_transitions").to_pandas().itertuples()}
    assert moves == {"inquiry", "MQL Ready"}
    before = funnel.run(store, funnel.build_request(SETTINGS), settings=SETTINGS)
    assert [(u.value, u.rows) for u in before.unmapped] == [("MQL Ready", 1)]
    mapped = Settings(funnel=FunnelSettings(values={"MQL Ready": "mql"}))
    after = funnel.run(store, funnel.build_request(mapped), settings=mapped)
    assert {r.stage: r.observed for r in after.funnel}["mql"] == 1


def test_lead_status_map_is_a_constructor_argument(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "Lead.csv", LEAD)
    adapter = SalesforceAdapter(lead_statuses={"Working - Contacted": "mql"})
    assert run_import(store, adapter, [path]).reconciles
    stages = {(short(r.entity_id), r.to_stage)
              for r in store.table("raw_stage_transitions").to_pandas().itertuples()
              if r.reconstructed}
    assert ("02", "mql") in stages
    assert ("05", "Nurturing") in stages  # not in that map: written as it is


def test_import_salesforce_settings_from_revloop_toml(tmp_path: Path, store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "revloop.toml").write_text(
        '[import.salesforce]\nloss_reason_fields = ["Why_Lost__c"]\n'
        'lead_statuses = {"working - contacted" = "mql", "Nurturing" = "disqualified"}\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.import_.salesforce.loss_reason_fields == ["Why_Lost__c"]
    lead = write_csv(tmp_path / "Lead.csv", LEAD)
    opp = write_csv(tmp_path / "Opportunity.csv", (["Id", "Name", "Why_Lost__c", "LossReason__c"],
                                                   [["006X", "X", "Too slow", "Price"]]))
    assert facade.import_files(store, "salesforce", [lead, opp], settings=settings).reconciles
    stages = {(short(r.entity_id), r.to_stage)
              for r in store.table("raw_stage_transitions").to_pandas().itertuples()
              if r.reconstructed}
    # the org's values win over the built-in ones, whatever their case; the rest stay built in
    assert {("02", "mql"), ("05", "disqualified"), ("03", "sal")} <= stages
    opps = mart(store, "raw_opportunities", "opportunity_id")
    assert opps["006X"]["lost_reason"] == "Too slow"
    assert json.loads(opps["006X"]["custom"]) == {"LossReason__c": "Price"}


def test_import_settings_typos_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "revloop.toml").write_text('[import.salesforce]\nloss_reasons = ["X"]\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"import\.salesforce\.loss_reasons in revloop\.toml"):
        load_settings()


def test_lead_file_without_created_date(tmp_path: Path, store: Store) -> None:
    result = load(store, tmp_path, {"Lead.csv": drop_column(LEAD, "CreatedDate")})
    assert result.entities["contacts"].stored == 11
    assert any("no CreatedDate column" in n for n in notices(result))
    df = store.table("raw_stage_transitions").to_pandas()
    assert "inquiry" not in set(df["to_stage"])
    # statuses dated by LastModifiedDate / LastActivityDate; lead 04 has neither
    assert sorted(short(i) for i in df["entity_id"]) == [
        "02", "03", "05", "06", "07", "08", "09", "10", "11"]


# -- 3, 4, 8. opportunities --------------------------------------------------------------------

def test_opportunity_types_loss_reasons_and_currency(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, {"Opportunity.csv": OPPORTUNITY, "CurrencyType.csv": CURRENCY_TYPE})
    facade.build_model(store, SETTINGS)
    opps = {o["name"]: o for o in mart(store, "opportunities", "opportunity_id").values()}
    assert {n: o["opportunity_type"] for n, o in opps.items()} == {
        "Alpha - New": "new", "Alpha - More seats": "expansion",
        "Alpha - Renewal": "renewal", "Alpha - Downsize": "renewal",
        "Alpha - Add-on": "expansion", "Alpha - Swap": "renewal",
    }
    assert {n: o["lost_reason"] for n, o in opps.items() if o["lost_reason"]} == {
        "Alpha - More seats": "Price", "Alpha - Downsize": "Went with a competitor"}
    assert {n: o["currency"] for n, o in opps.items()} == {
        "Alpha - New": "EUR", "Alpha - More seats": "USD", "Alpha - Renewal": "EUR",
        "Alpha - Downsize": "GBP", "Alpha - Add-on": "EUR", "Alpha - Swap": "EUR"}
    for o in opps.values():
        custom = json.loads(o["custom"])
        assert "LossReason__c" not in custom and "IsDeleted" not in custom
        assert custom["Type"]  # the raw Type is kept


@pytest.mark.parametrize(("value", "expected"), [
    ("New Customer", "new"), ("new business", "new"), ("Existing Business", "expansion"),
    ("Existing Customer - Upgrade", "expansion"), ("Existing Customer - Replacement",
                                                   "renewal"),
    ("Existing Customer - Downgrade", "renewal"), ("Renewal", "renewal"),
    ("Upgrade", "expansion"), ("Add-On", "expansion"), ("Cross-Sell", "expansion"),
    ("Upsell", "expansion"), ("Existing Customer - Migration", "expansion"),
    ("Partner Referral", None), ("", None),
])
def test_opportunity_type_values(tmp_path: Path, store: Store, value: str,
                                 expected: str | None) -> None:
    header = ["Id", "Name", "Type"]
    load(store, tmp_path, {"Opportunity.csv": (header, [["006X", "X", value]])})
    assert mart(store, "raw_opportunities", "opportunity_id")["006X"][
        "opportunity_type"] == expected


def test_loss_reason_fields_are_configurable(tmp_path: Path, store: Store) -> None:
    header = ["Id", "Name", "Why_Lost__c", "Closed_Lost_Reason__c"]
    path = write_csv(tmp_path / "Opportunity.csv",
                     (header, [["006X", "X", "Too slow", "Price"], ["006Y", "Y", "", "Fit"]]))
    assert run_import(store, SalesforceAdapter(), [path]).reconciles
    opps = mart(store, "raw_opportunities", "opportunity_id")
    assert (opps["006X"]["lost_reason"], opps["006Y"]["lost_reason"]) == ("Price", "Fit")
    assert json.loads(opps["006X"]["custom"]) == {"Why_Lost__c": "Too slow"}
    adapter = SalesforceAdapter(loss_reason_fields=("Why_Lost__c", "Closed_Lost_Reason__c"))
    assert run_import(store, adapter, [path]).reconciles
    opps = mart(store, "raw_opportunities", "opportunity_id")
    assert (opps["006X"]["lost_reason"], opps["006Y"]["lost_reason"]) == ("Too slow", "Fit")
    assert opps["006X"]["custom"] is None


def test_currency_rates(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, {"DatedConversionRate.csv": DATED_RATE,
                           "CurrencyType.csv": CURRENCY_TYPE})
    facade.build_model(store, SETTINGS)
    df = store.table("currency_rates").to_pandas()
    rates = {(r.currency, None if r.start_date is None or str(r.start_date) == "NaT"
              else str(r.start_date)[:10]): (r.rate, r.is_corporate)
             for r in df.astype(object).where(df.notna(), None).itertuples()}
    assert rates == {
        ("EUR", "2024-01-01"): (0.9, None), ("EUR", "2024-04-01"): (0.92, None),
        ("USD", None): (1.0, True), ("EUR", None): (0.91, False), ("GBP", None): (0.79, False),
    }


# -- 5. users and teams ---------------------------------------------------------------------

def test_users_and_teams_give_owner_names(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, {"User.csv": USER, "UserRole.csv": USER_ROLE,
                           "Opportunity.csv": OPPORTUNITY, "OpportunityHistory.csv": HISTORY,
                           "CurrencyType.csv": CURRENCY_TYPE})
    facade.build_model(store, SETTINGS)
    users = mart(store, "users", "user_id")
    assert {k[-5:-3]: (u["name"], u["email"], u["role"], u["team_id"], u["manager_id"],
                       u["is_active"]) for k, u in users.items()} == {
        "01": ("Riley Rep", "ae@example.test", "rep", "00E000000000002AAA",
               "005000000000003AAA", True),
        "02": ("Sam Dev", "sdr@example.test", "sdr", "00E000000000003AAA",
               "005000000000003AAA", False),
        "03": ("Blair Boss", "vp@example.test", "manager", None, None, True),
    }
    teams = mart(store, "teams", "team_id")
    assert {k[-5:-3]: (t["name"], t["team_type"], t["manager_id"])
            for k, t in teams.items()} == {
        "01": ("VP Sales", "sales", "005000000000003AAA"),
        "02": ("Account Executives EMEA", "sales", None),
        "03": ("SDR Team", "sdr", None),
    }
    result = funnel.run(store, funnel.build_request(SETTINGS, level="opportunity",
                                                    by=("owner", "team")), settings=SETTINGS)
    owners = {(c.value, c.label) for c in result.cuts["owner"]}
    assert ("005000000000001AAA", "Riley Rep") in owners
    assert ("00E000000000002AAA", "Account Executives EMEA") in {
        (c.value, c.label) for c in result.cuts["team"]}


# -- 6. OpportunityHistory ------------------------------------------------------------------

def test_history_rows_of_one_second_are_all_kept(tmp_path: Path, store: Store) -> None:
    result = load(store, tmp_path, {"OpportunityHistory.csv": HISTORY})
    counts = result.entities["stage_transitions"]
    assert (counts.stored, counts.quarantined) == (4, 0)
    assert store.count("quarantine") == 0
    df = store.table("raw_stage_transitions").to_pandas().set_index("transition_id")
    same = df.loc[["008000000000002AAA", "008000000000003AAA"]]
    assert list(same["amount"]) == [45000, 50000]
    assert set(same["occurred_at"]) == {datetime(2024, 2, 1, 12)}
    assert set(df["reconstructed"]) == {False}
    again = load(store, tmp_path, {"OpportunityHistory.csv": HISTORY})
    assert (again.total("stored"), again.total("duplicates")) == (0, 4)


# -- 7. header case, Fivetran and Airbyte ---------------------------------------------------

@pytest.mark.parametrize("how", ["upper", "lower"])
def test_headers_in_any_case(tmp_path: Path, store: Store, how: str) -> None:
    load(store, tmp_path, {"Opportunity.csv": recase(OPPORTUNITY, how),
                           "OpportunityHistory.csv": recase(HISTORY, how)})
    opps = mart(store, "raw_opportunities", "opportunity_id")
    more = opps["006000000000002AAA"]
    assert (more["stage"], more["amount"], more["currency"]) == ("Closed Lost", 12000, "USD")
    assert (more["opportunity_type"], more["lost_reason"]) == ("expansion", "Price")
    assert more["primary_campaign_id"] is None
    assert store.count("raw_stage_transitions") == 4


def test_fivetran_tables(tmp_path: Path, store: Store) -> None:
    fivetran_roles = ([c.lower() if c != "ParentRoleId" else "parent_role_id"
                       for c in USER_ROLE[0]] + ["_fivetran_deleted"],
                      [[*r, "false"] for r in USER_ROLE[1]])
    result = load(store, tmp_path, {"opportunity.csv": FIVETRAN_OPPORTUNITY,
                                    "user_role.csv": fivetran_roles}, layout="fivetran")
    assert result.entities["opportunities"].read == 2  # the deleted one is skipped
    assert any("1 deleted row skipped" in n for n in notices(result))
    assert any("Fivetran table" in n for n in notices(result))
    opps = mart(store, "raw_opportunities", "opportunity_id")
    assert set(opps) == {"006000000000101AAA", "006000000000102AAA"}
    lost = opps["006000000000102AAA"]
    assert (lost["stage"], lost["opportunity_type"], lost["lost_reason"]) == (
        "Closed Lost", "expansion", "Timing")
    assert (lost["is_closed"], lost["is_won"], lost["currency"]) == (True, False, "USD")
    assert lost["created_at"] == datetime(2024, 2, 1, 10)
    assert opps["006000000000101AAA"]["primary_campaign_id"] is None
    assert json.loads(lost["custom"]) == {"type": "Existing Business"}
    assert store.count("raw_teams") == 3


def test_fivetran_currency_and_user_tables(tmp_path: Path, store: Store) -> None:
    rates = (["id", "iso_code", "conversion_rate", "start_date", "next_start_date",
              "_fivetran_deleted", "_fivetran_synced"],
             [["04w1", "EUR", "0.9", "2024-01-01", "2024-04-01", "false", "2024-06-01"],
              ["04w2", "EUR", "0.8", "2023-01-01", "2024-01-01", "true", "2024-06-01"]])
    currencies = (["id", "iso_code", "conversion_rate", "is_corporate", "is_active",
                   "decimal_places", "_fivetran_synced"],
                  [["01L1", "USD", "1", "true", "true", "2", "2024-06-01"]])
    users = (["id", "first_name", "last_name", "email", "title", "user_role_id", "manager_id",
              "is_active", "_fivetran_deleted"],
             [["005A", "Riley", "Rep", "ae@example.test", "Account Executive", "00EA", EMPTY,
               "true", "false"]])
    load(store, tmp_path, {"dated_conversion_rate.csv": rates, "currency_type.csv": currencies,
                           "user.csv": users})
    stored = mart(store, "raw_currency_rates", "currency")  # the deleted EUR rate is skipped
    assert {c: (r["rate"], r["is_corporate"]) for c, r in stored.items()} == {
        "EUR": (0.9, None), "USD": (1.0, True)}
    assert stored["EUR"]["next_start_date"] == datetime(2024, 4, 1)
    user = mart(store, "raw_users", "user_id")["005A"]
    assert (user["name"], user["role"], user["team_id"], user["manager_id"]) == (
        "Riley Rep", "rep", "00EA", None)


def test_fivetran_history_mode_keeps_the_active_version(tmp_path: Path, store: Store) -> None:
    header = ["id", "name", "stage_name", "_fivetran_active", "_fivetran_start"]
    rows = [["006A", "A", "Prospecting", "false", "2024-01-01"],
            ["006A", "A", "Closed Won", "true", "2024-02-01"]]
    load(store, tmp_path, {"opportunity.csv": (header, rows)})
    assert mart(store, "raw_opportunities", "opportunity_id")["006A"]["stage"] == "Closed Won"


def test_elt_tables_must_be_named_after_their_object(tmp_path: Path, store: Store) -> None:
    header = ["id", "opportunity_id", "_fivetran_synced"]
    path = write_csv(tmp_path / "opportunity_line_item.csv", (header, [["00k1", "006A", "x"]]))
    with pytest.raises(InputFileError, match="table 'opportunity_line_item'") as err:
        run_import(store, SalesforceAdapter(), [path])
    assert err.value.code == "unknown_object"


def test_airbyte_stream(tmp_path: Path, store: Store) -> None:
    result = load(store, tmp_path, {"Opportunity.csv": AIRBYTE_OPPORTUNITY})
    assert any("Airbyte table" in n for n in notices(result))
    opps = mart(store, "raw_opportunities", "opportunity_id")
    assert set(opps) == {"006000000000201AAA"}  # IsDeleted true: skipped
    opp = opps["006000000000201AAA"]
    assert (opp["opportunity_type"], opp["lost_reason"], opp["owner_id"]) == (
        "expansion", "No budget", "005000000000002AAA")
    assert json.loads(opp["custom"]) == {"Type": "Upsell"}  # no _airbyte_* columns
