"""HubSpot exports → canonical rows, checked value by value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from revloop.errors import InputFileError
from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import ImportResult, run_import
from revloop.store import Store
from tests.ingest.helpers import write

CONTACTS = """\
hs_object_id,email,firstname,lastname,jobtitle,lifecyclestage,associatedcompanyid,createdate,\
hs_analytics_source,hs_analytics_first_timestamp,hs_analytics_first_url,\
hs_lifecyclestage_lead_date,hs_lifecyclestage_marketingqualifiedlead_date,\
hs_lifecyclestage_customer_date,favourite_colour
101,ann@acme.com,Ann,Lee,CMO,customer,9001,2024-01-05T10:00:00.000Z,PAID_SEARCH,\
2024-01-04T09:30:00Z,https://acme.com/pricing,2024-01-05T10:00:00.000Z,1705312800000,\
2024-03-01 12:00,green
102,bob@beta.io,Bob,,,lead,,2024-02-01 08:00,DIRECT_TRAFFIC,,,2024-02-01 08:00,,,
103,cy@gamma.dev,Cy,,,subscriber,,1706745600000,,,,,,,blue
"""
COMPANIES = """\
hs_object_id,name,domain,industry,numberofemployees,annualrevenue,country,createdate,\
hs_lifecyclestage_customer_date
9001,Acme,www.Acme.com,COMPUTER_SOFTWARE,250,12000000,United States,2023-12-01T00:00:00Z,\
2024-03-01T12:00:00Z
"""
DEALS = """\
hs_object_id,dealname,amount,dealstage,dealtype,pipeline,createdate,closedate,hs_is_closed,\
hs_is_closed_won,hs_deal_stage_probability,associatedcompanyid,hs_analytics_source,\
hs_date_entered_appointmentscheduled,hs_date_entered_closedwon,hs_date_entered_123456
5001,Acme platform,48000,closedwon,newbusiness,default,2024-01-20T00:00:00Z,\
2024-03-01T00:00:00Z,true,true,1,9001,PAID_SEARCH,2024-01-20T00:00:00Z,2024-03-01T00:00:00Z,\
2024-02-10T00:00:00Z
5002,Acme add-on,5000,appointmentscheduled,existingbusiness,default,1709251200000,,false,\
false,0.2,9001,,1709251200000,,
"""
ENGAGEMENTS = """\
hs_object_id,hs_timestamp,hs_engagement_type,associatedcontactid,associatedcompanyid,\
hs_call_duration
7001,2024-02-02T15:00:00Z,CALL,101,9001,540
7002,1706889600000,MEETING,101,9001,
"""


def _import(store: Store, tmp_path: Path, name: str, text: str) -> ImportResult:
    return run_import(store, get_adapter("hubspot"), [write(tmp_path / name, text)])


def _by(store: Store, table: str, key: str) -> dict[str, dict[str, object]]:
    return {r[key]: r for r in store.table(table).to_pyarrow().to_pylist()}


def test_contacts_transitions_and_first_touch(duck: Store, tmp_path: Path) -> None:
    result = _import(duck, tmp_path, "contacts.csv", CONTACTS)
    assert result.reconciles and result.total("quarantined") == 0
    people = _by(duck, "raw_contacts", "contact_id")
    ann = people["101"]
    assert (ann["email"], ann["title"], ann["lifecycle_stage"], ann["account_id"]) == (
        "ann@acme.com", "CMO", "customer", "9001")
    assert ann["created_at"] == dt.datetime(2024, 1, 5, 10, 0)
    assert ann["custom"] == '{"favourite_colour":"green"}'
    assert people["103"]["created_at"] == dt.datetime(2024, 2, 1, 0, 0)  # epoch ms
    assert people["102"]["created_at"] == dt.datetime(2024, 2, 1, 8, 0)  # UI export format
    moves = sorted((r["entity_id"], r["to_stage"], r["occurred_at"]) for r in
                   duck.table("raw_stage_transitions").to_pyarrow().to_pylist())
    assert moves == [
        ("101", "customer", dt.datetime(2024, 3, 1, 12, 0)),
        ("101", "lead", dt.datetime(2024, 1, 5, 10, 0)),
        ("101", "marketingqualifiedlead", dt.datetime(2024, 1, 15, 10, 0)),
        ("102", "lead", dt.datetime(2024, 2, 1, 8, 0)),
    ]
    touches = _by(duck, "raw_touchpoints", "touchpoint_id")
    assert set(touches) == {"hs-first-101", "hs-first-102"}
    first = touches["hs-first-101"]
    assert (first["channel"], first["touch_type"], first["contact_id"], first["url"]) == (
        "paid_search", "first_touch", "101", "https://acme.com/pricing")
    assert first["occurred_at"] == dt.datetime(2024, 1, 4, 9, 30)
    assert touches["hs-first-102"]["channel"] == "direct"
    again = _import(duck, tmp_path, "contacts.csv", CONTACTS)
    assert again.total("stored") == 0 and again.reconciles


def test_companies(duck: Store, tmp_path: Path) -> None:
    assert _import(duck, tmp_path, "companies.csv", COMPANIES).reconciles
    acme = _by(duck, "raw_accounts", "account_id")["9001"]
    assert (acme["domain"], acme["employees"], acme["annual_revenue"]) == (
        "acme.com", 250, 12_000_000.0)
    (move,) = duck.table("raw_stage_transitions").to_pyarrow().to_pylist()
    assert (move["entity_type"], move["to_stage"]) == ("account", "customer")


def test_deals_with_stage_entry_dates(duck: Store, tmp_path: Path) -> None:
    assert _import(duck, tmp_path, "deals.csv", DEALS).reconciles
    deals = _by(duck, "raw_opportunities", "opportunity_id")
    won = deals["5001"]
    assert (won["amount"], won["opportunity_type"], won["is_won"], won["probability"],
            won["source_channel"], won["account_id"]) == (
        48000.0, "new", True, 100.0, "paid_search", "9001")
    assert won["close_date"] == dt.date(2024, 3, 1)
    assert deals["5002"]["probability"] == pytest.approx(20.0)
    assert deals["5002"]["opportunity_type"] == "expansion"
    assert deals["5002"]["created_at"] == dt.datetime(2024, 3, 1)
    moves = sorted((r["entity_id"], r["to_stage"]) for r in
                   duck.table("raw_stage_transitions").to_pyarrow().to_pylist())
    assert moves == [("5001", "123456"), ("5001", "appointmentscheduled"),
                     ("5001", "closedwon"), ("5002", "appointmentscheduled")]


def test_engagements(duck: Store, tmp_path: Path) -> None:
    assert _import(duck, tmp_path, "engagements.csv", ENGAGEMENTS).reconciles
    touches = _by(duck, "raw_touchpoints", "touchpoint_id")
    assert (touches["7001"]["touch_type"], touches["7001"]["channel"],
            touches["7001"]["contact_id"]) == ("call", "sales", "101")
    assert touches["7001"]["properties"] == '{"hs_call_duration":"540"}'
    assert touches["7002"]["occurred_at"] == dt.datetime(2024, 2, 2, 16, 0)


def test_missing_id_column(duck: Store, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no id column for HubSpot deals: expected one of "
                       "'hs_object_id', 'dealId'"):
        _import(duck, tmp_path, "deals.csv", "dealname,amount\nX,5\n")


def test_unknown_file_name(duck: Store, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot tell which HubSpot object"):
        _import(duck, tmp_path, "export.csv", CONTACTS)
