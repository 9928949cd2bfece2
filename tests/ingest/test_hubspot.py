"""HubSpot exports (internal property names) → canonical rows, checked value by value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from revloop.errors import InputFileError
from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import ImportResult, run_import
from revloop.store import Store, connect
from tests.ingest.helpers import by_key as _by
from tests.ingest.helpers import table_rows as _rows

CONTACTS = """\
hs_object_id,email,firstname,lastname,company,jobtitle,hs_seniority,hs_job_function,country,\
lifecyclestage,hs_lead_status,hubspot_owner_id,associatedcompanyid,createdate,\
hs_analytics_source,hs_analytics_source_data_1,hs_analytics_first_timestamp,\
hs_analytics_first_url,hs_email_optout,hs_lifecyclestage_subscriber_date,\
hs_lifecyclestage_lead_date,hs_lifecyclestage_marketingqualifiedlead_date,\
hs_lifecyclestage_salesqualifiedlead_date,hs_lifecyclestage_opportunity_date,\
hs_lifecyclestage_customer_date,hs_lifecyclestage_evangelist_date,\
hs_lifecyclestage_other_date,favourite_colour,shoe_size
101,ann@acme.com,Ann,Lee,Acme,CMO,c_level,marketing,Germany,customer,CONNECTED,77,9001,\
2024-01-05T10:00:00.000Z,PAID_SEARCH,crm tools,2024-01-04T09:30:00Z,https://acme.com/pricing,\
false,,2024-01-05T10:00:00.000Z,1705312800000,2024-02-01 09:15,2024-02-10T08:00:00Z,\
2024-03-01 12:00,,,green,42
102,bob@beta.io,Bob,,,,,,,lead,,,,2024-02-01 08:00,DIRECT_TRAFFIC,,,,true,,\
2024-02-01 08:00,,,,,,,,
103,cy@gamma.dev,Cy,,,,,,,subscriber,,,,1706745600000,,,,,,1706745600000,,,,,,,,,
104,di@delta.org,Di,,,,,,,lead,,,,2024-02-05T00:00:00Z,OFFLINE,,,,,,,,,,,,,,
105,ed@eps.net,Ed,,,,,,,lead,,,,2024-02-06T00:00:00Z,AI_REFERRALS,,,,,,,,,,,,,,
106,flo@zeta.ai,Flo,,,,,,,lead,,,,2024-02-07T00:00:00Z,SOMETHING_NEW,,,,,,,,,,,,,,
"""

COMPANIES = """\
hs_object_id,name,domain,website,industry,numberofemployees,annualrevenue,country,state,\
hubspot_owner_id,createdate,hs_parent_company_id,hs_lifecyclestage_lead_date,\
hs_lifecyclestage_customer_date,about_us
9001,Acme,www.Acme.com,,COMPUTER_SOFTWARE,250,12000000,United States,CA,77,\
2023-12-01T00:00:00Z,,2023-12-01T00:00:00Z,1709294400000,We make anvils
9002,Acme EU,,https://www.acme.eu/about,COMPUTER_SOFTWARE,40,,Germany,Bavaria,,\
2024-01-10 09:00,9001,,,
"""

DEALS = """\
hs_object_id,dealname,amount,deal_currency_code,dealstage,dealtype,pipeline,hubspot_owner_id,\
createdate,closedate,hs_is_closed,hs_is_closed_won,closed_lost_reason,hs_analytics_source,\
associatedcompanyid,hs_deal_stage_probability,hs_date_entered_appointmentscheduled,\
hs_date_entered_qualifiedtobuy,hs_date_entered_closedwon,hs_date_entered_closedlost,\
hs_date_entered_123456789,hs_date_exited_appointmentscheduled
5001,Acme platform,48000,EUR,closedwon,newbusiness,default,77,2024-01-20T00:00:00Z,\
2024-03-01T00:00:00Z,true,true,,PAID_SEARCH,9001,1,2024-01-20T00:00:00Z,1706140800000,\
2024-03-01 10:00,,2024-02-10T00:00:00Z,2024-01-25T00:00:00Z
5002,Acme add-on,5000.50,EUR,qualifiedtobuy,existingbusiness,default,,1709251200000,,false,\
false,,,9001,0.2,1709251200000,1709337600000,,,,
5003,Acme renewal,30000,EUR,closedlost,renewal,default,,2024-02-01 08:00,2024-04-01,true,\
false,Budget,REFERRALS,9001;9002,0,2024-02-01 08:00,,,2024-04-01 17:30,,
5004,Acme upsell,1200,EUR,123456789,upsell,sales-2,,2024-02-15T00:00:00Z,,false,false,,,,\
0.35,,,,,2024-02-15T00:00:00Z,
"""

ENGAGEMENTS = """\
hs_object_id,hs_timestamp,hs_engagement_type,associatedcontactid,associatedcompanyid,\
hs_call_duration,hs_body_preview
7001,2024-02-02T15:00:00Z,CALL,101,9001,540,
7002,1706889600000,MEETING,101,9001,,Demo
7003,2024-02-03 10:30,INCOMING_EMAIL,102,,,"Re: pricing, please"
7004,2024-02-04T00:00:00.123Z,EMAIL,102,,,
7005,2024-02-05T00:00:00Z,NOTE,,9001,,
7006,2024-02-06T00:00:00Z,TASK,,,,
7007,2024-02-07T00:00:00Z,LINKEDIN_MESSAGE,103,,,
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = connect("duckdb:///" + str(tmp_path / "t.duckdb"))
    yield s
    s.close()


def _import(store: Store, tmp_path: Path, name: str, text: str,
            entity: str | None = None) -> ImportResult:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return run_import(store, get_adapter("hubspot", entity=entity), [path])


def _moves(store: Store) -> list[tuple[str, str, str, pd.Timestamp]]:
    return sorted((r["entity_type"], r["entity_id"], r["to_stage"], r["occurred_at"])
                  for r in _rows(store, "raw_stage_transitions"))


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# -- contacts ---------------------------------------------------------------------------------

def test_contacts_values(store: Store, tmp_path: Path) -> None:
    result = _import(store, tmp_path, "contacts.csv", CONTACTS)
    assert result.reconciles and result.total("quarantined") == 0
    assert result.entities["contacts"].stored == 6
    people = _by(store, "raw_contacts", "contact_id")
    ann = people["101"]
    assert {k: ann[k] for k in (
        "record_type", "email", "first_name", "last_name", "company", "title", "seniority",
        "function", "country", "lifecycle_stage", "lead_status", "owner_id", "account_id",
        "lead_source", "is_unsubscribed", "source")} == {
        "record_type": "contact", "email": "ann@acme.com", "first_name": "Ann",
        "last_name": "Lee", "company": "Acme", "title": "CMO", "seniority": "c_level",
        "function": "marketing", "country": "Germany", "lifecycle_stage": "customer",
        "lead_status": "CONNECTED", "owner_id": "77", "account_id": "9001",
        "lead_source": "PAID_SEARCH", "is_unsubscribed": False, "source": "hubspot"}
    assert ann["created_at"] == _ts("2024-01-05 10:00")
    # unmapped columns (and the source drill-down) are kept; mapped ones and stage dates not
    assert json.loads(ann["custom"]) == {"hs_analytics_source_data_1": "crm tools",
                                         "favourite_colour": "green", "shoe_size": "42"}
    assert people["102"]["is_unsubscribed"] is True
    assert people["102"]["custom"] is None  # all its extra columns are empty
    assert people["103"]["lead_source"] is None


def test_contact_lifecycle_transitions(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, "contacts.csv", CONTACTS)
    assert _moves(store) == [
        ("contact", "101", "customer", _ts("2024-03-01 12:00")),
        ("contact", "101", "lead", _ts("2024-01-05 10:00")),
        ("contact", "101", "marketingqualifiedlead", _ts("2024-01-15 10:00")),  # epoch ms
        ("contact", "101", "opportunity", _ts("2024-02-10 08:00")),
        ("contact", "101", "salesqualifiedlead", _ts("2024-02-01 09:15")),  # UI export
        ("contact", "102", "lead", _ts("2024-02-01 08:00")),
        ("contact", "103", "subscriber", _ts("2024-02-01 00:00")),
        # no stage dates at all: the lead stage at createdate, reconstructed
        ("contact", "104", "lead", _ts("2024-02-05")),
        ("contact", "105", "lead", _ts("2024-02-06")),
        ("contact", "106", "lead", _ts("2024-02-07")),
    ]
    rebuilt = {r["entity_id"] for r in _rows(store, "raw_stage_transitions")
               if r["reconstructed"]}
    assert rebuilt == {"104", "105", "106"}
    assert {r["source"] for r in _rows(store, "raw_stage_transitions")} == {"hubspot"}
    assert all(r["from_stage"] is None for r in _rows(store, "raw_stage_transitions"))


def test_first_touch_per_contact_with_a_source(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, "contacts.csv", CONTACTS)
    touches = _by(store, "raw_touchpoints", "touchpoint_id")
    assert set(touches) == {"hs-first-101", "hs-first-102", "hs-first-104", "hs-first-105",
                            "hs-first-106"}  # 103 has no hs_analytics_source
    first = touches["hs-first-101"]
    assert {k: first[k] for k in ("touch_type", "channel", "contact_id", "account_id", "url",
                                  "source")} == {
        "touch_type": "first_touch", "channel": "paid_search", "contact_id": "101",
        "account_id": "9001", "url": "https://acme.com/pricing", "source": "hubspot"}
    assert first["occurred_at"] == _ts("2024-01-04 09:30")  # hs_analytics_first_timestamp
    assert json.loads(first["properties"]) == {"hs_analytics_source_data_1": "crm tools"}
    # no first timestamp: createdate
    assert touches["hs-first-102"]["occurred_at"] == _ts("2024-02-01 08:00")
    assert {k: t["channel"] for k, t in touches.items()} == {
        "hs-first-101": "paid_search", "hs-first-102": "direct", "hs-first-104": "events",
        "hs-first-105": "referral", "hs-first-106": "other"}


@pytest.mark.parametrize("created", [
    "2024-03-05T14:22:10.123Z", "2024-03-05T15:22:10.123+01:00", "2024-03-05 14:22",
    "1709648530123",
])
def test_iso_ui_and_epoch_ms_dates(store: Store, tmp_path: Path, created: str) -> None:
    text = ("hs_object_id,createdate,hs_lifecyclestage_lead_date\n"
            f"1,{created},{created}\n")
    assert _import(store, tmp_path, "contacts.csv", text).total("quarantined") == 0
    expected = (_ts("2024-03-05 14:22") if len(created) == 16
                else _ts("2024-03-05 14:22:10.123"))
    assert _by(store, "raw_contacts", "contact_id")["1"]["created_at"] == expected
    assert _moves(store) == [("contact", "1", "lead", expected)]


def test_unparseable_date_is_quarantined(store: Store, tmp_path: Path) -> None:
    result = _import(store, tmp_path, "contacts.csv",
                     "hs_object_id,createdate\n1,yesterday\n2,2024-01-01\n")
    assert result.reconciles and result.entities["contacts"].quarantined == 1
    (bad,) = _rows(store, "quarantine")
    assert (bad["column_name"], bad["code"]) == ("created_at", "unparseable_date")


# -- companies --------------------------------------------------------------------------------

def test_companies(store: Store, tmp_path: Path) -> None:
    result = _import(store, tmp_path, "companies.csv", COMPANIES)
    assert result.reconciles and result.total("quarantined") == 0
    accounts = _by(store, "raw_accounts", "account_id")
    acme = accounts["9001"]
    assert {k: acme[k] for k in ("name", "domain", "industry", "employees", "annual_revenue",
                                 "country", "region", "owner_id", "parent_account_id",
                                 "source")} == {
        "name": "Acme", "domain": "acme.com", "industry": "COMPUTER_SOFTWARE",
        "employees": 250, "annual_revenue": 12_000_000.0, "country": "United States",
        "region": "CA", "owner_id": "77", "parent_account_id": None, "source": "hubspot"}
    assert acme["created_at"] == _ts("2023-12-01")
    assert json.loads(acme["custom"]) == {"about_us": "We make anvils"}
    eu = accounts["9002"]
    assert (eu["domain"], eu["parent_account_id"], eu["created_at"]) == (
        "acme.eu", "9001", _ts("2024-01-10 09:00"))  # domain falls back to website
    assert _moves(store) == [("account", "9001", "customer", _ts("2024-03-01 12:00")),
                             ("account", "9001", "lead", _ts("2023-12-01"))]


# -- deals ------------------------------------------------------------------------------------

def test_deals(store: Store, tmp_path: Path) -> None:
    result = _import(store, tmp_path, "deals.csv", DEALS)
    assert result.reconciles and result.total("quarantined") == 0
    deals = _by(store, "raw_opportunities", "opportunity_id")
    won = deals["5001"]
    assert {k: won[k] for k in (
        "name", "amount", "currency", "stage", "opportunity_type", "owner_id", "is_closed",
        "is_won", "source_channel", "account_id", "probability", "source")} == {
        "name": "Acme platform", "amount": 48000.0, "currency": "EUR", "stage": "closedwon",
        "opportunity_type": "new", "owner_id": "77", "is_closed": True, "is_won": True,
        "source_channel": "paid_search", "account_id": "9001", "probability": 100.0,
        "source": "hubspot"}
    assert won["created_at"] == _ts("2024-01-20")
    assert pd.Timestamp(won["close_date"]) == _ts("2024-03-01")
    assert json.loads(won["custom"]) == {
        "dealtype": "newbusiness", "pipeline": "default",
        "hs_analytics_source": "PAID_SEARCH",
        "hs_date_exited_appointmentscheduled": "2024-01-25T00:00:00Z"}
    add_on = deals["5002"]
    assert (add_on["opportunity_type"], add_on["amount"], add_on["probability"],
            add_on["is_closed"], add_on["is_won"], add_on["created_at"]) == (
        "expansion", 5000.5, 20.0, False, False, _ts("2024-03-01"))
    assert add_on["close_date"] is None
    lost = deals["5003"]
    assert (lost["opportunity_type"], lost["lost_reason"], lost["source_channel"],
            lost["account_id"], lost["probability"]) == (
        "renewal", "Budget", "referral", "9001", 0.0)  # first of several company ids
    upsell = deals["5004"]  # an unknown deal type: stored, type empty, raw type in custom
    assert upsell["opportunity_type"] is None
    assert json.loads(upsell["custom"]) == {"dealtype": "upsell", "pipeline": "sales-2"}
    assert upsell["probability"] == pytest.approx(35.0)


def test_deal_stage_entered_transitions(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, "deals.csv", DEALS)
    assert _moves(store) == [
        ("opportunity", "5001", "123456789", _ts("2024-02-10")),
        ("opportunity", "5001", "appointmentscheduled", _ts("2024-01-20")),
        ("opportunity", "5001", "closedwon", _ts("2024-03-01 10:00")),
        ("opportunity", "5001", "qualifiedtobuy", _ts("2024-01-25")),
        ("opportunity", "5002", "appointmentscheduled", _ts("2024-03-01")),
        ("opportunity", "5002", "qualifiedtobuy", _ts("2024-03-02")),
        ("opportunity", "5003", "appointmentscheduled", _ts("2024-02-01 08:00")),
        ("opportunity", "5003", "closedlost", _ts("2024-04-01 17:30")),
        ("opportunity", "5004", "123456789", _ts("2024-02-15")),
    ]


def test_deal_flags_from_default_pipeline_stage(store: Store, tmp_path: Path) -> None:
    text = ("dealId,dealstage\n1,closedwon\n2,closedlost\n3,contractsent\n4,987654\n")
    assert _import(store, tmp_path, "deal.csv", text).reconciles
    deals = _by(store, "raw_opportunities", "opportunity_id")
    assert {k: (d["is_closed"], d["is_won"]) for k, d in deals.items()} == {
        "1": (True, True), "2": (True, False), "3": (False, False), "4": (None, None)}


# -- engagements ------------------------------------------------------------------------------

def test_engagements(store: Store, tmp_path: Path) -> None:
    result = _import(store, tmp_path, "engagements.csv", ENGAGEMENTS)
    assert result.reconciles and result.total("quarantined") == 0
    touches = _by(store, "raw_touchpoints", "touchpoint_id")
    assert {k: (t["touch_type"], t["channel"]) for k, t in touches.items()} == {
        "7001": ("call", "outbound_sales"), "7002": ("meeting", "outbound_sales"),
        "7003": ("email_reply", "inbound_sales"), "7004": ("email", "outbound_sales"),
        "7005": ("note", "sales"), "7006": ("task", "sales"),
        "7007": ("linkedin_message", "sales")}
    call = touches["7001"]
    assert (call["contact_id"], call["account_id"], call["source"]) == ("101", "9001", "hubspot")
    assert call["occurred_at"] == _ts("2024-02-02 15:00")
    assert json.loads(call["properties"]) == {"hs_call_duration": "540"}
    assert touches["7002"]["occurred_at"] == _ts("2024-02-02 16:00")  # epoch ms
    assert touches["7003"]["occurred_at"] == _ts("2024-02-03 10:30")  # UI export
    assert json.loads(touches["7003"]["properties"]) == {
        "hs_body_preview": "Re: pricing, please"}
    assert touches["7004"]["occurred_at"] == _ts("2024-02-04 00:00:00.123")
    assert (touches["7005"]["contact_id"], touches["7005"]["account_id"]) == (None, "9001")
    assert touches["7006"]["properties"] is None


def test_engagements_api_dump_names(store: Store, tmp_path: Path) -> None:
    text = ("engagement.id,engagement.timestamp,engagement.type,associations.contactIds,"
            "associations.companyIds\n"
            '1,1709648530123,CALL,"[11, 12]",[21]\n')
    assert _import(store, tmp_path, "engagement.csv", text).reconciles
    (touch,) = _rows(store, "raw_touchpoints")
    assert (touch["touchpoint_id"], touch["touch_type"], touch["contact_id"],
            touch["account_id"], touch["occurred_at"]) == (
        "1", "call", "11", "21", _ts("2024-03-05 14:22:10.123"))


# -- which object, which id column ------------------------------------------------------------

@pytest.mark.parametrize(("name", "entity", "header", "table", "key"), [
    ("contacts.csv", None, "vid", "raw_contacts", "contact_id"),
    ("contact.csv", None, "Record ID", "raw_contacts", "contact_id"),
    ("export.csv", "contacts", "hs_object_id", "raw_contacts", "contact_id"),
    ("companies_2024.csv", None, "companyId", "raw_accounts", "account_id"),
    ("company.csv", None, "hs_object_id", "raw_accounts", "account_id"),
    ("data.csv", "company", "id", "raw_accounts", "account_id"),
    ("deals.csv", None, "dealId", "raw_opportunities", "opportunity_id"),
    ("deal-q1.csv", None, "hs_object_id", "raw_opportunities", "opportunity_id"),
])
def test_object_from_file_name_or_entity_and_id_aliases(
    store: Store, tmp_path: Path, name: str, entity: str | None, header: str, table: str,
    key: str,
) -> None:
    result = _import(store, tmp_path, name, f"{header},createdate\n42,2024-01-01\n", entity)
    assert result.reconciles and result.total("stored") == 1
    assert list(_by(store, table, key)) == ["42"]


def test_unknown_file_name(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot tell which HubSpot object"):
        _import(store, tmp_path, "export.csv", CONTACTS)
    # other tables whose names start with an object's: never read as that object
    for name in ("deal_property_history.csv", "contact_list.csv", "deal_pipeline.csv",
                 "hubspot_deal_pipeline_stage.csv"):
        with pytest.raises(InputFileError, match="cannot tell which HubSpot object"):
            _import(store, tmp_path, name, CONTACTS)
    with pytest.raises(InputFileError, match="unknown HubSpot object 'tickets'"):
        _import(store, tmp_path, "contacts.csv", CONTACTS, entity="tickets")


@pytest.mark.parametrize(("name", "accepted"), [
    ("contacts.csv", "'hs_object_id', 'vid', 'Record ID', 'id'"),
    ("companies.csv", "'hs_object_id', 'companyId', 'Record ID', 'id'"),
    ("deals.csv", "'hs_object_id', 'dealId', 'Record ID', 'id'"),
    ("engagements.csv", "'hs_object_id', 'engagement.id', 'engagement_id', 'id', 'Record ID'"),
])
def test_missing_id_column(store: Store, tmp_path: Path, name: str, accepted: str) -> None:
    obj = name.removesuffix(".csv")
    with pytest.raises(InputFileError) as err:
        _import(store, tmp_path, name, "email,createdate,hs_timestamp\nx@y.z,1,1\n")
    assert err.value.code == "missing_column"
    assert f"no id column for HubSpot {obj}: expected one of {accepted}" in str(err.value)
    assert _rows(store, "imports") == []  # nothing written


def test_engagements_need_a_timestamp(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no timestamp column for HubSpot engagements: "
                       "expected one of 'hs_timestamp', 'timestamp'"):
        _import(store, tmp_path, "engagements.csv", "hs_object_id,hs_engagement_type\n1,CALL\n")


# -- reconciliation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "text"), [
    ("contacts.csv", CONTACTS), ("companies.csv", COMPANIES), ("deals.csv", DEALS),
    ("engagements.csv", ENGAGEMENTS),
])
def test_reconciles_and_reimport_stores_nothing_new(
    store: Store, tmp_path: Path, name: str, text: str,
) -> None:
    first = _import(store, tmp_path, name, text)
    assert first.reconciles and first.total("stored") == first.total("read") > 0
    before = {t: len(_rows(store, t)) for t in ("raw_contacts", "raw_accounts",
                                                  "raw_opportunities", "raw_touchpoints",
                                                  "raw_stage_transitions")}
    again = _import(store, tmp_path, name, text)
    assert again.reconciles
    assert again.total("stored") == 0 and again.total("quarantined") == 0
    assert again.total("duplicates") == again.total("read") == first.total("read")
    after = {t: len(_rows(store, t)) for t in before}
    assert after == before
