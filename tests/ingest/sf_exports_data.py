"""Small Salesforce exports in the real shapes of a Data Export, Fivetran and Airbyte (made-up
people and companies), shared by the Salesforce export tests."""

from __future__ import annotations

import csv
from pathlib import Path

Table = tuple[list[str], list[list[str]]]

EMPTY = "000000000000000AAA"  # Salesforce's empty lookup, 18 characters
EMPTY15 = "000000000000000"  # … and its 15-character form

LEAD_HEADER = ["Id", "IsDeleted", "MasterRecordId", "LastName", "FirstName", "Company",
               "Status", "OwnerId", "IsConverted", "ConvertedDate", "ConvertedAccountId",
               "ConvertedContactId", "ConvertedOpportunityId", "CreatedDate",
               "LastModifiedDate", "LastActivityDate", "LeadSource"]


def _lead(lid: str, status: str, created: str, modified: str = "", activity: str = "", *,
          converted: str = "", account: str = EMPTY, contact: str = EMPTY,
          opportunity: str = EMPTY15, deleted: str = "false") -> list[str]:
    return [lid, deleted, EMPTY, f"Name{lid[-2:]}", "Test", f"Company {lid[-2:]}", status,
            "005000000000001AAA", "true" if converted else "false", converted, account,
            contact, opportunity, created, modified, activity, "Web"]


LEAD: Table = (LEAD_HEADER, [
    _lead("00Q000000000001AAA", "Open - Not Contacted", "2024-01-02T09:00:00.000Z",
          "2024-01-02T09:05:00.000Z"),
    _lead("00Q000000000002AAA", "Working - Contacted", "2024-01-03T09:00:00.000Z",
          "2024-01-10T11:00:00.000Z"),
    # no LastModifiedDate: the status is dated by LastActivityDate
    _lead("00Q000000000003AAA", "Contacted", "2024-01-04T09:00:00.000Z", "", "2024-01-12"),
    _lead("00Q000000000004AAA", "Working", "2024-01-05T09:00:00.000Z"),
    _lead("00Q000000000005AAA", "Nurturing", "2024-01-06T09:00:00.000Z",
          "2024-01-15T10:00:00.000Z"),
    _lead("00Q000000000006AAA", "Nurture", "2024-01-07T09:00:00.000Z",
          "2024-01-16T10:00:00.000Z"),
    _lead("00Q000000000007AAA", "Closed - Not Converted", "2024-01-08T09:00:00.000Z",
          "2024-01-17T10:00:00.000Z"),
    _lead("00Q000000000008AAA", "Unqualified", "2024-01-09T09:00:00.000Z",
          "2024-01-18T10:00:00.000Z"),
    _lead("00Q000000000009AAA", "Disqualified", "2024-01-10T09:00:00.000Z",
          "2024-01-19T10:00:00.000Z"),
    _lead("00Q000000000010AAA", "Qualified", "2024-01-11T09:00:00.000Z",
          "2024-01-20T10:00:00.000Z"),
    # converted the day it was created, ConvertedDate re-saved with a midnight time
    _lead("00Q000000000011AAA", "Closed - Converted", "2022-12-21T15:30:00.000Z",
          "2022-12-22T08:00:00.000Z", converted="2022-12-21 00:00:00",
          account="001000000000001AAA", contact="003000000000001AAA",
          opportunity="006000000000001AAA"),
    # in the recycle bin (a Data Loader "Export All"): skipped
    _lead("00Q000000000012AAA", "Working - Contacted", "2024-01-12T09:00:00.000Z",
          deleted="true"),
])

OPPORTUNITY: Table = (
    ["Id", "IsDeleted", "AccountId", "Name", "StageName", "Amount", "Probability", "CloseDate",
     "Type", "LeadSource", "IsClosed", "IsWon", "OwnerId", "CampaignId", "CreatedDate",
     "CurrencyIsoCode", "LossReason__c"],
    [
        ["006000000000001AAA", "false", "001000000000001AAA", "Alpha - New", "Closed Won",
         "50000", "100", "2024-03-31", "New Business", "Web", "true", "true",
         "005000000000001AAA", EMPTY, "2024-01-05T10:00:00.000Z", "EUR", ""],
        ["006000000000002AAA", "false", "001000000000001AAA", "Alpha - More seats",
         "Closed Lost", "12000", "0", "2024-04-30", "Existing Business", "", "true", "false",
         "005000000000002AAA", EMPTY15, "2024-02-01T10:00:00.000Z", "USD", "Price"],
        ["006000000000003AAA", "false", "001000000000001AAA", "Alpha - Renewal",
         "Negotiation/Review", "40000", "80", "2025-01-31", "Renewal", "", "false", "false",
         "005000000000001AAA", "", "2024-03-01T10:00:00.000Z", "EUR", ""],
        ["006000000000004AAA", "false", "001000000000001AAA", "Alpha - Downsize",
         "Closed Lost", "3000", "0", "2024-05-31", "Existing Customer - Downgrade", "", "true",
         "false", "005000000000002AAA", "", "2024-03-02T10:00:00.000Z", "GBP",
         "Went with a competitor"],
        ["006000000000005AAA", "false", "001000000000001AAA", "Alpha - Add-on", "Prospecting",
         "2000", "10", "2024-06-30", "Add-On", "", "false", "false", "005000000000001AAA", "",
         "2024-03-03T10:00:00.000Z", "EUR", ""],
        ["006000000000006AAA", "false", "001000000000001AAA", "Alpha - Swap", "Prospecting",
         "2000", "10", "2024-06-30", "Existing Customer - Replacement", "", "false", "false",
         "005000000000001AAA", "", "2024-03-04T10:00:00.000Z", "EUR", ""],
    ],
)

ACCOUNT: Table = (
    ["Id", "IsDeleted", "MasterRecordId", "Name", "ParentId", "OwnerId", "CreatedDate"],
    [["001000000000001AAA", "false", EMPTY, "Alpha Ltd", EMPTY, "005000000000001AAA",
      "2024-01-05T09:00:00.000Z"]],
)

HISTORY: Table = (
    ["Id", "OpportunityId", "CreatedById", "CreatedDate", "StageName", "Amount",
     "ExpectedRevenue", "CloseDate", "Probability", "ForecastCategory", "SystemModstamp",
     "IsDeleted"],
    [
        ["008000000000001AAA", "006000000000001AAA", "005000000000001AAA",
         "2024-01-05T10:00:00.000Z", "Prospecting", "40000", "4000", "2024-03-31", "10",
         "Pipeline", "2024-01-05T10:00:00.000Z", "false"],
        # two saves in the same second: an amount change, then a close date change
        ["008000000000002AAA", "006000000000001AAA", "005000000000001AAA",
         "2024-02-01T12:00:00.000Z", "Negotiation/Review", "45000", "36000", "2024-03-31",
         "80", "BestCase", "2024-02-01T12:00:00.000Z", "false"],
        ["008000000000003AAA", "006000000000001AAA", "005000000000001AAA",
         "2024-02-01T12:00:00.000Z", "Negotiation/Review", "50000", "40000", "2024-03-15",
         "80", "BestCase", "2024-02-01T12:00:00.000Z", "false"],
        ["008000000000004AAA", "006000000000001AAA", "005000000000001AAA",
         "2024-03-15T08:00:00.000Z", "Closed Won", "50000", "50000", "2024-03-15", "100",
         "Closed", "2024-03-15T08:00:00.000Z", "false"],
    ],
)

USER: Table = (
    ["Id", "Username", "LastName", "FirstName", "Name", "Email", "IsActive", "UserRoleId",
     "ManagerId", "Title", "Department", "UserType", "CreatedDate"],
    [
        ["005000000000001AAA", "ae@example.test", "Rep", "Riley", "Riley Rep",
         "ae@example.test", "true", "00E000000000002AAA", "005000000000003AAA",
         "Account Executive", "Sales", "Standard", "2023-01-01T09:00:00.000Z"],
        ["005000000000002AAA", "sdr@example.test", "Dev", "Sam", "Sam Dev", "sdr@example.test",
         "false", "00E000000000003AAA", "005000000000003AAA", "Sales Development Rep",
         "Sales", "Standard", "2023-01-01T09:00:00.000Z"],
        # no Name column value: first and last name are joined; no role, no manager
        ["005000000000003AAA", "vp@example.test", "Boss", "Blair", "", "vp@example.test",
         "true", EMPTY, EMPTY, "VP Sales", "Sales", "Standard", "2023-01-01T09:00:00.000Z"],
    ],
)

USER_ROLE: Table = (
    ["Id", "Name", "ParentRoleId", "RollupDescription", "DeveloperName", "ForecastUserId",
     "LastModifiedDate"],
    [
        ["00E000000000001AAA", "VP Sales", EMPTY, "VP Sales", "VPSales", "005000000000003AAA",
         "2023-01-01T09:00:00.000Z"],
        ["00E000000000002AAA", "Account Executives EMEA", "00E000000000001AAA",
         "Account Executives EMEA", "AE_EMEA", EMPTY, "2023-01-01T09:00:00.000Z"],
        ["00E000000000003AAA", "SDR Team", "00E000000000001AAA", "SDR Team", "SDR", EMPTY,
         "2023-01-01T09:00:00.000Z"],
    ],
)

DATED_RATE: Table = (
    ["Id", "IsoCode", "ConversionRate", "StartDate", "NextStartDate", "CreatedDate"],
    [
        ["04w000000000001AAA", "EUR", "0.9", "2024-01-01", "2024-04-01",
         "2024-01-01T00:00:00.000Z"],
        ["04w000000000002AAA", "EUR", "0.92", "2024-04-01", "9999-12-31",
         "2024-04-01T00:00:00.000Z"],
    ],
)

CURRENCY_TYPE: Table = (
    ["Id", "IsoCode", "ConversionRate", "DecimalPlaces", "IsActive", "IsCorporate"],
    [
        ["01L000000000001AAA", "USD", "1.0", "2", "true", "true"],
        ["01L000000000002AAA", "EUR", "0.91", "2", "true", "false"],
        ["01L000000000003AAA", "GBP", "0.79", "2", "false", "false"],
    ],
)

# Fivetran: one table per object, snake_case names and columns, soft deletes flagged
FIVETRAN_OPPORTUNITY: Table = (
    ["id", "is_deleted", "account_id", "name", "stage_name", "amount", "close_date", "type",
     "is_closed", "is_won", "owner_id", "campaign_id", "created_date", "currency_iso_code",
     "loss_reason_c", "_fivetran_deleted", "_fivetran_synced"],
    [
        ["006000000000101AAA", "false", "001000000000001AAA", "Fivetran won", "Closed Won",
         "1000", "2024-03-31", "New Business", "true", "true", "005000000000001AAA", EMPTY,
         "2024-01-05 10:00:00", "EUR", "", "false", "2024-06-01 00:00:00"],
        ["006000000000102AAA", "false", "001000000000001AAA", "Fivetran lost", "Closed Lost",
         "2000", "2024-04-30", "Existing Business", "true", "false", "005000000000001AAA", "",
         "2024-02-01 10:00:00", "USD", "Timing", "false", "2024-06-01 00:00:00"],
        ["006000000000103AAA", "false", "001000000000001AAA", "Fivetran gone", "Prospecting",
         "3000", "2024-05-31", "New Business", "false", "false", "005000000000001AAA", "",
         "2024-03-01 10:00:00", "EUR", "", "true", "2024-06-01 00:00:00"],
    ],
)

# Airbyte: the stream is the object's API name, columns keep the API names
AIRBYTE_OPPORTUNITY: Table = (
    ["_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta", "_airbyte_generation_id",
     "Id", "IsDeleted", "AccountId", "Name", "StageName", "Amount", "CloseDate", "Type",
     "IsClosed", "IsWon", "OwnerId", "CreatedDate", "CurrencyIsoCode", "Loss_Reason__c"],
    [
        ["3f6c", "2024-06-01T00:00:00Z", '{"changes":[]}', "0", "006000000000201AAA", "false",
         "001000000000001AAA", "Airbyte lost", "Closed Lost", "500", "2024-04-30",
         "Upsell", "true", "false", "005000000000002AAA", "2024-02-01T10:00:00.000Z", "EUR",
         "No budget"],
        ["9a1d", "2024-06-01T00:00:00Z", '{"changes":[]}', "0", "006000000000202AAA", "true",
         "001000000000001AAA", "Airbyte deleted", "Prospecting", "500", "2024-04-30",
         "New Business", "false", "false", "005000000000002AAA", "2024-02-01T10:00:00.000Z",
         "EUR", ""],
    ],
)


def write_csv(path: Path, table: Table) -> Path:
    header, rows = table
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def recase(table: Table, how: str) -> Table:
    """The same table with its header in upper or lower case."""
    header, rows = table
    return [h.upper() if how == "upper" else h.lower() for h in header], rows


def drop_column(table: Table, name: str) -> Table:
    header, rows = table
    i = header.index(name)
    return [h for h in header if h != name], [r[:i] + r[i + 1:] for r in rows]
