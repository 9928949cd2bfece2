"""The Salesforce adapter: export files with standard API field names → canonical rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revloop.errors import InputFileError
from revloop.ingest.adapters import get_adapter
from revloop.ingest.adapters.salesforce import SalesforceAdapter
from revloop.ingest.pipeline import ImportResult, run_import
from revloop.ingest.readers import open_file
from revloop.store import Store, connect
from tests.ingest.sf_exports_data import Table, drop_column, write_csv

LEAD = (
    ["Id", "IsDeleted", "FirstName", "LastName", "Company", "Title", "Email", "Country",
     "State", "Status", "LeadSource", "OwnerId", "CreatedDate", "IsConverted", "ConvertedDate",
     "ConvertedAccountId", "ConvertedContactId", "ConvertedOpportunityId",
     "HasOptedOutOfEmail", "Rating"],
    [
        ["00Q1", "false", "Ada", "Lovelace", "Acme", "CTO", "ada@acme.com", "UK", "London",
         "Working - Contacted", "Web", "005A", "2024-03-05T14:22:10.000+0000", "false", "",
         "", "", "", "0", "Hot"],
        ["00Q2", "false", "Bob", "Builder", "Bolt", "VP Sales", "bob@bolt.io", "US", "CA",
         "Closed - Converted", "Trade Show", "005B", "2024-01-10T09:00:00.000Z", "true",
         "2024-02-01", "001A", "003A", "006A", "1", ""],
        # converted on the day it was created: conversion takes the creation time
        ["00Q3", "false", "Cy", "Young", "Cyan", "", "cy@cyan.io", "FR", "", "Closed - Converted",
         "Webinar", "005A", "2024-04-02T16:30:00.000Z", "1", "2024-04-02", "001C", "003C", "",
         "false", ""],
        # inconsistent export: a conversion date on a lead that is not converted
        ["00Q4", "false", "Di", "Ng", "Dino", "", "", "DE", "", "Open", "", "005A",
         "2024-05-01T08:00:00.000Z", "false", "2024-05-02", "", "", "", "", ""],
    ],
)

CONTACT = (
    ["Id", "AccountId", "FirstName", "LastName", "Email", "Title", "Department",
     "MailingCountry", "LeadSource", "OwnerId", "CreatedDate", "HasOptedOutOfEmail", "Phone"],
    [
        ["003A", "001A", "Bob", "Builder", "bob@bolt.io", "VP Sales", "Sales", "United States",
         "Trade Show", "005B", "2024-02-01T10:00:00.000Z", "false", "+1 555 0100"],
        ["003B", "001A", "Eve", "Stone", "eve@bolt.io", "Engineer", "IT", "United States", "",
         "005B", "2024-02-03T11:00:00.000+0000", "true", ""],
    ],
)

ACCOUNT = (
    ["Id", "Name", "Website", "Industry", "NumberOfEmployees", "AnnualRevenue",
     "BillingCountry", "BillingState", "OwnerId", "ParentId", "CreatedDate", "Type", "Phone"],
    [
        ["001A", "Bolt Inc", "https://www.Bolt.io/about", "Software", "250", "12000000",
         "United States", "CA", "005B", "", "2024-02-01T10:00:00.000Z", "Customer", "555"],
        ["001B", "Bolt EU", "bolt.eu", "Software", "40", "1.5E6", "Germany", "Berlin", "005B",
         "001A", "2024-02-03T10:00:00.000Z", "Prospect", ""],
    ],
)

OPPORTUNITY = (
    ["Id", "AccountId", "Name", "Amount", "CurrencyIsoCode", "StageName", "Type", "LeadSource",
     "CampaignId", "OwnerId", "Probability", "CreatedDate", "CloseDate", "IsClosed", "IsWon",
     "Loss_Reason__c", "LossReason", "ForecastCategoryName"],
    [
        ["006A", "001A", "Bolt - New", "50000", "USD", "Closed Won", "New Customer",
         "Trade Show", "701A", "005B", "100", "2024-02-01T10:05:00.000Z", "2024-03-31", "true",
         "true", "", "", "Closed"],
        ["006B", "001A", "Bolt - Upsell", "12000.50", "USD", "Closed Lost",
         "Existing Customer - Upgrade", "", "", "005B", "0", "2024-04-01T10:00:00.000Z",
         "2024-05-15", "1", "0", "", "Price", "Omitted"],
        ["006C", "001B", "Bolt EU - Renewal", "8000", "EUR", "Negotiation",
         "Existing Customer - Replacement", "Partner", "", "005A", "60",
         "2024-05-01T10:00:00.000Z", "2024-06-30", "0", "0", "Budget", "Price", "Pipeline"],
        ["006D", "001B", "Bolt EU - Down", "1000", "EUR", "Prospecting",
         "Existing Customer - Downgrade", "", "", "005A", "10", "2024-05-02T10:00:00.000Z",
         "2024-07-31", "false", "false", "", "", "Pipeline"],
    ],
)

HISTORY = (
    ["Id", "OpportunityId", "StageName", "Amount", "Probability", "CloseDate", "CreatedDate",
     "ForecastCategory", "IsDeleted"],
    [
        ["008A", "006A", "Prospecting", "40000", "10", "2024-03-31",
         "2024-02-01T10:05:00.000Z", "Pipeline", "false"],
        ["008B", "006A", "Negotiation", "50000", "80", "2024-03-31",
         "2024-03-01T12:00:00.000+0000", "BestCase", "false"],
        ["008C", "006A", "Closed Won", "50000", "100", "2024-03-31",
         "2024-03-30T08:00:00.000Z", "Closed", "false"],
    ],
)

CONTACT_ROLE = (
    ["Id", "OpportunityId", "ContactId", "Role", "IsPrimary", "CreatedDate"],
    [
        ["00KA", "006A", "003A", "Decision Maker", "true", "2024-02-02T10:00:00.000Z"],
        ["00KB", "006A", "003B", "Technical Buyer", "false", "2024-02-02T10:01:00.000Z"],
    ],
)

CAMPAIGN = (
    ["Id", "Name", "Type", "ParentId", "Status", "StartDate", "EndDate", "BudgetedCost",
     "ActualCost", "IsActive", "NumberOfLeads"],
    [
        ["701A", "Trade Show 2024", "Trade Show", "", "Completed", "2024-01-09", "2024-01-11",
         "20000", "18500.75", "false", "120"],
        ["701B", "Spring Webinar", "Webinar", "701A", "In Progress", "2024-04-01", "",
         "5000", "", "true", "12"],
        ["701C", "Google Ads", "Paid Search", "", "Planned", "", "", "", "", "true", ""],
        ["701D", "Our podcast", "Podcast", "", "Planned", "", "", "", "", "true", ""],
        ["701E", "Telesales push", "Telemarketing", "", "Planned", "", "", "", "", "true", ""],
    ],
)

MEMBER = (
    ["Id", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded", "CreatedDate",
     "FirstRespondedDate"],
    [
        ["00vA", "701A", "00Q2", "003A", "Responded", "true", "2024-01-10T09:00:00.000Z",
         "2024-01-10"],
        ["00vB", "701A", "00Q1", "", "Sent", "false", "2024-01-12T09:00:00.000Z", ""],
        ["00vC", "701B", "", "", "Sent", "0", "2024-04-02T09:00:00.000Z", ""],
    ],
)

TASK = (
    ["Id", "WhoId", "WhatId", "AccountId", "Subject", "Type", "TaskSubtype", "Status",
     "ActivityDate", "CreatedDate", "OwnerId"],
    [
        ["00TA", "003A", "006A", "001A", "Call Bob", "Call", "Call", "Completed", "2024-02-05",
         "2024-02-05T15:00:00.000Z", "005B"],
        ["00TB", "00Q1", "", "", "Email: Intro", "", "Email", "Completed", "",
         "2024-03-06T10:00:00.000Z", "005A"],
        ["00TC", "003A", "", "001A", "Follow up", "Other", "Task", "Not Started", "2024-03-10",
         "2024-03-01T09:00:00.000Z", "005B"],
        ["00TD", "003B", "", "001A", "Cold call", "Call", "", "Completed", "",
         "2024-03-02T09:00:00.000+0000", "005B"],
    ],
)

EVENT = (
    ["Id", "WhoId", "WhatId", "AccountId", "Subject", "ActivityDateTime", "ActivityDate",
     "DurationInMinutes", "IsAllDayEvent", "CreatedDate"],
    [
        ["00UA", "003A", "006A", "001A", "Demo", "2024-02-10T16:00:00.000+0000", "2024-02-10",
         "60", "false", "2024-02-01T09:00:00.000Z"],
        ["00UB", "003B", "", "001A", "Offsite", "", "2024-02-20", "1440", "true",
         "2024-02-02T09:00:00.000Z"],
    ],
)

def rows_of(store: Store, entity: str, *key: str) -> dict[Any, dict[str, Any]]:
    """Rows of ``raw_<entity>`` by key, NULLs as None."""
    df = store.table(f"raw_{entity}").to_pandas()
    records = df.astype(object).where(df.notna(), None).to_dict("records")
    return {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: r for r in records}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = connect("duckdb:///" + str(tmp_path / "t.duckdb"))
    yield s
    s.close()


def load(store: Store, tmp_path: Path, name: str, table: Table,
         entity: str | None = None) -> ImportResult:
    path = write_csv(tmp_path / name, table)
    result = run_import(store, get_adapter("salesforce", entity=entity), [path])
    assert result.reconciles
    return result


# -- which object a file holds ---------------------------------------------------------------

def test_get_adapter_gives_the_salesforce_adapter() -> None:
    adapter = get_adapter("salesforce")
    assert isinstance(adapter, SalesforceAdapter)
    assert adapter.source == "salesforce"


@pytest.mark.parametrize(("name", "entities"), [
    # the second stage_transitions spec is the lead's current status (reconstructed)
    ("Lead.csv", ["contacts", "stage_transitions", "stage_transitions"]),
    ("leads.csv", ["contacts", "stage_transitions", "stage_transitions"]),
    ("Contacts.csv", ["contacts"]),
    ("account.csv", ["accounts"]),
    ("Opportunity_2024.csv", ["opportunities"]),
    ("opportunities.csv", ["opportunities"]),
    ("OpportunityHistory.csv", ["stage_transitions"]),
    ("opportunity_history-jan.csv", ["stage_transitions"]),
    ("OpportunityContactRole.csv", ["opportunity_contacts"]),
    ("Campaign.csv", ["campaigns"]),
    ("CampaignMembers.csv", ["campaign_members"]),
    ("Task.csv", ["touchpoints"]),
    ("events.csv", ["touchpoints"]),
])
def test_object_from_file_name(tmp_path: Path, name: str, entities: list[str]) -> None:
    header = sorted({"Id", "CreatedDate", "OpportunityId", "StageName", "ContactId",
                     "CampaignId"})
    path = write_csv(tmp_path / name, (header, [["x"] * len(header)]))
    specs = SalesforceAdapter().specs_for(open_file(path))
    assert [s.entity for s in specs] == entities


@pytest.mark.parametrize("name", [
    "opportunity_line_item.csv", "account_contact_role.csv", "campaign_member_status.csv",
    "Opportunity_Field_History.csv", "lead-share.csv", "OpportunityLineItem.csv",
])
def test_another_objects_file_is_not_taken_for_its_prefix(tmp_path: Path, name: str) -> None:
    # a line item is not an opportunity: refused, never imported as one
    path = write_csv(tmp_path / name, (["Id", "OpportunityId"], [["x", "y"]]))
    with pytest.raises(InputFileError, match="cannot tell which salesforce object"):
        SalesforceAdapter().specs_for(open_file(path))


@pytest.mark.parametrize("name", ["Opportunity_EMEA.csv", "opportunity-export-2024.csv",
                                  "Opportunity.part2.csv"])
def test_a_suffix_still_names_the_object(tmp_path: Path, name: str) -> None:
    path = write_csv(tmp_path / name, (["Id", "Name"], [["006X", "X"]]))
    assert [s.entity for s in SalesforceAdapter().specs_for(open_file(path))] == [
        "opportunities"]


def test_entity_option_overrides_the_file_name(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "export_0001.csv", ACCOUNT)
    with pytest.raises(InputFileError, match="cannot tell which salesforce object") as err:
        run_import(store, get_adapter("salesforce"), [path])
    assert err.value.code == "unknown_object"
    result = run_import(store, get_adapter("salesforce", entity="Account"), [path])
    assert result.entities["accounts"].stored == 2
    with pytest.raises(InputFileError, match="unknown salesforce object 'Quote'"):
        run_import(store, get_adapter("salesforce", entity="Quote"), [path])


# -- each object -------------------------------------------------------------------------------

def test_leads_with_conversion_and_transitions(tmp_path: Path, store: Store) -> None:
    result = load(store, tmp_path, "Lead.csv", LEAD)
    assert result.entities["contacts"].stored == 4
    # 4 inquiries + 2 conversions + Ada's current status (Working - Contacted → sal); the
    # converted leads' status is their conversion, Open is the inquiry
    assert result.entities["stage_transitions"].stored == 7

    leads = rows_of(store, "contacts", "contact_id")
    ada = leads["00Q1"]
    assert ada["record_type"] == "lead"
    assert (ada["first_name"], ada["last_name"], ada["company"]) == ("Ada", "Lovelace", "Acme")
    assert (ada["email"], ada["title"], ada["country"]) == ("ada@acme.com", "CTO", "UK")
    assert ada["lead_status"] == "Working - Contacted"
    assert ada["lead_source"] == "Web"
    assert ada["owner_id"] == "005A"
    assert ada["created_at"] == datetime(2024, 3, 5, 14, 22, 10)
    assert ada["converted_at"] is None
    assert ada["account_id"] is None
    assert ada["is_unsubscribed"] is False
    assert ada["source"] == "salesforce"
    # IsDeleted is read (deleted rows are skipped), not copied into custom
    assert json.loads(ada["custom"]) == {"State": "London", "Rating": "Hot"}

    bob = leads["00Q2"]
    assert bob["converted_at"] == datetime(2024, 2, 1)
    assert bob["converted_contact_id"] == "003A"
    assert bob["converted_opportunity_id"] == "006A"
    assert bob["account_id"] == "001A"
    assert bob["is_unsubscribed"] is True
    assert bob["created_at"] == datetime(2024, 1, 10, 9, 0)

    # ConvertedDate is a date: a same-day conversion is placed at the creation time
    assert leads["00Q3"]["converted_at"] == datetime(2024, 4, 2, 16, 30)
    # a ConvertedDate on a lead that IsConverted=false is ignored
    assert leads["00Q4"]["converted_at"] is None
    assert leads["00Q4"]["email"] is None

    moves = rows_of(store, "stage_transitions", "entity_id", "to_stage")
    assert set(moves) == {("00Q1", "inquiry"), ("00Q2", "inquiry"), ("00Q3", "inquiry"),
                          ("00Q4", "inquiry"), ("00Q2", "converted"), ("00Q3", "converted"),
                          ("00Q1", "sal")}
    # no LastModifiedDate / LastActivityDate in this export: the status is dated at creation
    assert moves[("00Q1", "sal")]["occurred_at"] == datetime(2024, 3, 5, 14, 22, 10)
    assert moves[("00Q1", "sal")]["reconstructed"] is True
    assert moves[("00Q2", "converted")]["reconstructed"] is False
    assert moves[("00Q2", "inquiry")]["occurred_at"] == datetime(2024, 1, 10, 9, 0)
    assert moves[("00Q2", "converted")]["occurred_at"] == datetime(2024, 2, 1)
    assert moves[("00Q3", "converted")]["occurred_at"] == datetime(2024, 4, 2, 16, 30)
    assert {m["entity_type"] for m in moves.values()} == {"lead"}
    assert {m["from_stage"] for m in moves.values()} == {None}
    assert {m["source"] for m in moves.values()} == {"salesforce"}


def test_typed_parquet_leads(tmp_path: Path, store: Store) -> None:
    """Typed columns (timestamps, dates, booleans) work as well as CSV text."""
    pq.write_table(pa.table({
        "Id": ["00Q1", "00Q2"],
        "CreatedDate": pa.array([datetime(2024, 1, 1, 9), datetime(2024, 2, 1, 9)],
                                pa.timestamp("us", "UTC")),
        "IsConverted": [True, False],
        "ConvertedDate": pa.array([datetime(2024, 1, 5).date(), None], pa.date32()),
        "Rating": ["Hot", None],
    }), tmp_path / "Lead.parquet")
    result = run_import(store, get_adapter("salesforce"), [tmp_path / "Lead.parquet"])
    assert result.reconciles
    assert result.entities["stage_transitions"].stored == 3
    leads = rows_of(store, "contacts", "contact_id")
    assert leads["00Q1"]["created_at"] == datetime(2024, 1, 1, 9)
    assert leads["00Q1"]["converted_at"] == datetime(2024, 1, 5)
    assert json.loads(leads["00Q1"]["custom"]) == {"Rating": "Hot"}
    assert leads["00Q2"]["converted_at"] is None
    moves = rows_of(store, "stage_transitions", "entity_id", "to_stage")
    assert moves[("00Q1", "converted")]["occurred_at"] == datetime(2024, 1, 5)
    assert moves[("00Q2", "inquiry")]["occurred_at"] == datetime(2024, 2, 1, 9)


def test_contacts(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, "Contact.csv", CONTACT)
    people = rows_of(store, "contacts", "contact_id")
    bob = people["003A"]
    assert bob["record_type"] == "contact"
    assert bob["account_id"] == "001A"
    assert (bob["email"], bob["first_name"], bob["last_name"]) == ("bob@bolt.io", "Bob",
                                                                   "Builder")
    assert (bob["title"], bob["function"], bob["country"]) == ("VP Sales", "Sales",
                                                               "United States")
    assert bob["lead_source"] == "Trade Show"
    assert bob["owner_id"] == "005B"
    assert bob["created_at"] == datetime(2024, 2, 1, 10, 0)
    assert bob["is_unsubscribed"] is False
    assert bob["lead_status"] is None
    assert json.loads(bob["custom"]) == {"Phone": "+1 555 0100"}
    assert people["003B"]["is_unsubscribed"] is True
    assert people["003B"]["created_at"] == datetime(2024, 2, 3, 11, 0)
    assert people["003B"]["custom"] is None  # nothing extra on that row


def test_accounts(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, "Account.csv", ACCOUNT)
    accounts = rows_of(store, "accounts", "account_id")
    bolt = accounts["001A"]
    assert bolt["name"] == "Bolt Inc"
    assert bolt["domain"] == "bolt.io"
    assert bolt["industry"] == "Software"
    assert bolt["employees"] == 250
    assert bolt["annual_revenue"] == 12_000_000
    assert (bolt["country"], bolt["region"]) == ("United States", "CA")
    assert bolt["owner_id"] == "005B"
    assert bolt["parent_account_id"] is None
    assert bolt["created_at"] == datetime(2024, 2, 1, 10, 0)
    assert json.loads(bolt["custom"]) == {"Type": "Customer", "Phone": "555"}
    eu = accounts["001B"]
    assert eu["domain"] == "bolt.eu"
    assert eu["annual_revenue"] == 1_500_000
    assert eu["parent_account_id"] == "001A"


def test_custom_stays_aligned_when_a_row_has_no_extra_values(tmp_path: Path,
                                                             store: Store) -> None:
    header = ["Id", "Name", "Type", "Phone", "Description"]
    rows = [["001A", "A", "Customer", "", 'says "hi"\nbye'], ["001B", "B", "", "", ""],
            ["001C", "C", "", "555", ""], ["001D", "D", "", "", ""]]
    result = load(store, tmp_path, "Account.csv", (header, rows))
    assert result.entities["accounts"].stored == 4
    custom = {k: r["custom"] for k, r in rows_of(store, "accounts", "account_id").items()}
    assert json.loads(custom["001A"]) == {"Type": "Customer", "Description": 'says "hi"\nbye'}
    assert custom["001B"] is None
    assert json.loads(custom["001C"]) == {"Phone": "555"}
    assert custom["001D"] is None


def test_opportunities(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, "Opportunity.csv", OPPORTUNITY)
    opps = rows_of(store, "opportunities", "opportunity_id")
    new = opps["006A"]
    assert (new["account_id"], new["name"]) == ("001A", "Bolt - New")
    assert (new["amount"], new["currency"]) == (50000, "USD")
    assert new["stage"] == "Closed Won"
    assert new["opportunity_type"] == "new"
    assert new["source_channel"] == "Trade Show"
    assert new["primary_campaign_id"] == "701A"
    assert new["owner_id"] == "005B"
    assert new["probability"] == 100
    assert new["created_at"] == datetime(2024, 2, 1, 10, 5)
    assert new["close_date"] == datetime(2024, 3, 31)
    assert (new["is_closed"], new["is_won"]) == (True, True)
    assert new["lost_reason"] is None
    assert json.loads(new["custom"]) == {"Type": "New Customer",
                                         "ForecastCategoryName": "Closed"}

    upsell = opps["006B"]
    assert upsell["opportunity_type"] == "expansion"
    assert upsell["amount"] == 12000.5
    assert (upsell["is_closed"], upsell["is_won"]) == (True, False)  # '1' / '0'
    assert upsell["lost_reason"] == "Price"  # LossReason when Loss_Reason__c is empty
    assert upsell["primary_campaign_id"] is None

    renewal = opps["006C"]
    assert renewal["opportunity_type"] == "renewal"
    assert renewal["lost_reason"] == "Budget"  # Loss_Reason__c wins over LossReason
    assert (renewal["is_closed"], renewal["is_won"]) == (False, False)
    assert renewal["currency"] == "EUR"

    # a downgrade re-signs an existing customer's contract: renewal, never new business;
    # the raw Type is still in custom
    down = opps["006D"]
    assert down["opportunity_type"] == "renewal"
    assert json.loads(down["custom"])["Type"] == "Existing Customer - Downgrade"
    for opp in opps.values():
        custom = json.loads(opp["custom"])
        assert "Loss_Reason__c" not in custom
        assert "LossReason" not in custom


def test_opportunity_history_transitions(tmp_path: Path, store: Store) -> None:
    result = load(store, tmp_path, "OpportunityHistory.csv", HISTORY)
    assert result.entities["stage_transitions"].stored == 3
    moves = rows_of(store, "stage_transitions", "to_stage")
    assert set(moves) == {"Prospecting", "Negotiation", "Closed Won"}
    nego = moves["Negotiation"]
    assert (nego["entity_type"], nego["entity_id"]) == ("opportunity", "006A")
    assert nego["occurred_at"] == datetime(2024, 3, 1, 12, 0)
    assert (nego["amount"], nego["probability"]) == (50000, 80)
    assert nego["close_date"] == datetime(2024, 3, 31)
    assert nego["from_stage"] is None
    assert moves["Prospecting"]["amount"] == 40000
    assert moves["Closed Won"]["occurred_at"] == datetime(2024, 3, 30, 8, 0)


def test_opportunity_contact_roles(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, "OpportunityContactRole.csv", CONTACT_ROLE)
    roles = rows_of(store, "opportunity_contacts", "opportunity_id", "contact_id")
    assert set(roles) == {("006A", "003A"), ("006A", "003B")}
    assert roles[("006A", "003A")]["role"] == "Decision Maker"
    assert roles[("006A", "003A")]["is_primary"] is True
    assert roles[("006A", "003B")]["role"] == "Technical Buyer"
    assert roles[("006A", "003B")]["is_primary"] is False
    assert roles[("006A", "003B")]["source"] == "salesforce"


def test_campaigns_and_channels(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, "Campaign.csv", CAMPAIGN)
    campaigns = rows_of(store, "campaigns", "campaign_id")
    show = campaigns["701A"]
    assert show["name"] == "Trade Show 2024"
    assert (show["campaign_type"], show["channel"]) == ("Trade Show", "events")
    assert show["status"] == "Completed"
    assert (show["start_date"], show["end_date"]) == (datetime(2024, 1, 9), datetime(2024, 1, 11))
    assert (show["budgeted_cost"], show["actual_cost"]) == (20000, 18500.75)
    assert show["parent_campaign_id"] is None
    assert json.loads(show["custom"]) == {"IsActive": "false", "NumberOfLeads": "120"}
    webinar = campaigns["701B"]
    assert (webinar["channel"], webinar["parent_campaign_id"]) == ("webinar", "701A")
    assert webinar["end_date"] is None
    assert campaigns["701C"]["channel"] == "paid_search"  # already a canonical channel name
    assert campaigns["701D"]["channel"] == "other"  # unknown type
    assert campaigns["701D"]["campaign_type"] == "Podcast"
    assert campaigns["701E"]["channel"] == "outbound_sales"


def test_campaign_members_take_contact_else_lead(tmp_path: Path, store: Store) -> None:
    result = load(store, tmp_path, "CampaignMember.csv", MEMBER)
    counts = result.entities["campaign_members"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 2, 1)
    members = rows_of(store, "campaign_members", "campaign_id", "contact_id")
    assert set(members) == {("701A", "003A"), ("701A", "00Q1")}
    bob = members[("701A", "003A")]
    assert (bob["status"], bob["has_responded"]) == ("Responded", True)
    assert bob["created_at"] == datetime(2024, 1, 10, 9, 0)
    assert bob["first_responded_at"] == datetime(2024, 1, 10)
    ada = members[("701A", "00Q1")]
    assert (ada["status"], ada["has_responded"]) == ("Sent", False)
    assert ada["first_responded_at"] is None
    bad = store.table("quarantine").to_pandas()
    assert list(bad["column_name"]) == ["contact_id"]
    assert list(bad["code"]) == ["missing_required"]
    assert list(bad["line"]) == [4]


def test_tasks_and_events_become_touchpoints(tmp_path: Path, store: Store) -> None:
    tasks = write_csv(tmp_path / "Task.csv", TASK)
    events = write_csv(tmp_path / "Event.csv", EVENT)
    result = run_import(store, get_adapter("salesforce"), [tasks, events])
    assert result.reconciles
    assert result.entities["touchpoints"].stored == 6
    touches = rows_of(store, "touchpoints", "touchpoint_id")

    call = touches["00TA"]
    assert call["touch_type"] == "call"
    assert call["occurred_at"] == datetime(2024, 2, 5)  # ActivityDate first
    assert (call["contact_id"], call["account_id"]) == ("003A", "001A")
    assert call["channel"] == "outbound_sales"
    assert call["source"] == "salesforce"
    props = json.loads(call["properties"])
    assert props["Subject"] == "Call Bob"
    assert props["WhatId"] == "006A"
    assert props["OwnerId"] == "005B"
    assert "Id" not in props and "WhoId" not in props

    email = touches["00TB"]
    assert email["touch_type"] == "email"
    assert email["occurred_at"] == datetime(2024, 3, 6, 10, 0)  # CreatedDate fallback
    assert (email["contact_id"], email["account_id"]) == ("00Q1", None)
    assert touches["00TC"]["touch_type"] == "task"
    assert touches["00TD"]["touch_type"] == "call"  # Type=Call without TaskSubtype

    demo = touches["00UA"]
    assert demo["touch_type"] == "meeting"
    assert demo["occurred_at"] == datetime(2024, 2, 10, 16, 0)  # ActivityDateTime
    assert demo["channel"] == "outbound_sales"
    assert json.loads(demo["properties"])["Subject"] == "Demo"
    offsite = touches["00UB"]
    assert offsite["occurred_at"] == datetime(2024, 2, 20)  # all-day: ActivityDate
    assert offsite["touch_type"] == "meeting"


# -- errors, reconciliation, re-import ---------------------------------------------------------

@pytest.mark.parametrize(("name", "table", "column", "entities"), [
    ("Opportunity.csv", OPPORTUNITY, "Id", "opportunities"),
    ("Lead.csv", LEAD, "Id", "contacts/stage_transitions"),
    ("OpportunityHistory.csv", HISTORY, "StageName", "stage_transitions"),
    ("OpportunityContactRole.csv", CONTACT_ROLE, "ContactId", "opportunity_contacts"),
])
def test_missing_required_column(tmp_path: Path, store: Store, name: str, table: Table,
                                 column: str, entities: str) -> None:
    path = write_csv(tmp_path / name, drop_column(table, column))
    with pytest.raises(InputFileError) as err:
        run_import(store, get_adapter("salesforce"), [path])
    message = str(err.value)
    assert f"missing required column '{column}' for salesforce {entities}" in message
    assert "the header has:" in message
    assert err.value.code == "missing_column"
    assert store.count("raw_contacts") == 0


def test_campaign_member_needs_contact_or_lead_column(tmp_path: Path, store: Store) -> None:
    table = drop_column(drop_column(MEMBER, "ContactId"), "LeadId")
    path = write_csv(tmp_path / "CampaignMember.csv", table)
    with pytest.raises(InputFileError, match="needs one of 'ContactId', 'LeadId'") as err:
        run_import(store, get_adapter("salesforce"), [path])
    assert err.value.code == "missing_column"
    # either one is enough
    only_leads = write_csv(tmp_path / "CampaignMember.csv", drop_column(MEMBER, "ContactId"))
    result = run_import(store, get_adapter("salesforce"), [only_leads])
    members = rows_of(store, "campaign_members", "campaign_id", "contact_id")
    assert set(members) == {("701A", "00Q2"), ("701A", "00Q1")}
    assert result.entities["campaign_members"].quarantined == 1


def _all_files(tmp_path: Path) -> list[Path]:
    files = {
        "Lead.csv": LEAD, "Contact.csv": CONTACT, "Account.csv": ACCOUNT,
        "Opportunity.csv": OPPORTUNITY, "OpportunityHistory.csv": HISTORY,
        "OpportunityContactRole.csv": CONTACT_ROLE, "Campaign.csv": CAMPAIGN,
        "CampaignMember.csv": MEMBER, "Task.csv": TASK, "Event.csv": EVENT,
    }
    return [write_csv(tmp_path / name, table) for name, table in files.items()]


def test_full_export_reconciles(tmp_path: Path, store: Store) -> None:
    bad_accounts = (ACCOUNT[0], [*ACCOUNT[1], ["001X", "Broken", "", "", "many", "", "", "",
                                              "", "", "2024-02-03T10:00:00.000Z", "", ""]])
    paths = _all_files(tmp_path)
    write_csv(tmp_path / "Account.csv", bad_accounts)
    result = run_import(store, get_adapter("salesforce"), paths)
    assert result.reconciles
    expected = {  # entity: (read, stored, quarantined)
        "contacts": (6, 6, 0), "stage_transitions": (10, 10, 0), "accounts": (3, 2, 1),
        "opportunities": (4, 4, 0), "opportunity_contacts": (2, 2, 0), "campaigns": (5, 5, 0),
        "campaign_members": (3, 2, 1), "touchpoints": (6, 6, 0),
    }
    got = {e: (c.read, c.stored, c.quarantined) for e, c in result.entities.items()}
    assert got == expected
    assert result.total("read") == 39
    assert result.total("stored") == 37
    assert result.total("quarantined") == 2
    assert store.count("quarantine") == 2
    bad = store.table("quarantine").to_pandas().set_index("entity")
    assert bad.loc["accounts", "column_name"] == "employees"
    assert bad.loc["accounts", "code"] == "not_an_integer"
    assert bad.loc["accounts", "value"] == "many"
    assert bad.loc["accounts", "line"] == 4
    assert bad.loc["campaign_members", "column_name"] == "contact_id"
    assert store.count("raw_contacts") == 6
    assert store.count("raw_stage_transitions") == 10


def test_reimport_stores_nothing_new(tmp_path: Path, store: Store) -> None:
    paths = _all_files(tmp_path)
    first = run_import(store, get_adapter("salesforce"), paths)
    assert first.reconciles
    assert first.total("stored") == 37
    before = {t: store.count(t) for t in ("raw_contacts", "raw_opportunities",
                                          "raw_stage_transitions", "raw_touchpoints",
                                          "raw_campaign_members", "quarantine")}
    again = run_import(store, get_adapter("salesforce"), paths)
    assert again.reconciles
    assert again.total("stored") == 0
    assert again.total("duplicates") == first.total("stored")
    assert again.total("read") == first.total("read")
    assert all(c.inserted == 0 and c.updated == 0 for c in again.entities.values())
    after = {t: store.count(t) for t in before}
    assert after == before


def test_changed_row_is_updated_on_reimport(tmp_path: Path, store: Store) -> None:
    load(store, tmp_path, "Opportunity.csv", OPPORTUNITY)
    header, rows = OPPORTUNITY
    changed = [list(r) for r in rows]
    changed[0][header.index("Amount")] = "55000"
    result = load(store, tmp_path, "Opportunity.csv", (header, changed))
    counts = result.entities["opportunities"]
    assert (counts.updated, counts.inserted, counts.duplicates) == (1, 0, 3)
    assert rows_of(store, "opportunities", "opportunity_id")["006A"]["amount"] == 55000
