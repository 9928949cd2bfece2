"""Real HubSpot export forms: UI exports (labels), API exports without stage dates, Fivetran
and Airbyte tables — the same records give the same canonical rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from revloop import facade
from revloop.errors import InputFileError
from revloop.ingest.pipeline import ImportResult
from revloop.schema import entity
from revloop.store import Store, connect
from tests.ingest.helpers import by_key as _by
from tests.ingest.helpers import table_rows as _rows
from tests.ingest.hubspot_world import FORMS, write_form


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = connect("duckdb:///" + str(tmp_path / "t.duckdb"))
    yield s
    s.close()


def _write(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / n for n in files]


def _import(store: Store, paths: list[Path], **kw: Any) -> ImportResult:
    return facade.import_files(store, "hubspot", paths, **kw)


def _canonical(store: Store, name: str, leave_out: tuple[str, ...] = ("custom",)
               ) -> list[tuple[Any, ...]]:
    cols = [c for c in entity(name).column_names if c not in leave_out]
    return sorted((tuple(r[c] for c in cols) for r in _rows(store, f"raw_{name}")), key=repr)


def _moves(store: Store) -> list[tuple[Any, ...]]:
    return sorted((r["entity_type"], r["entity_id"], r["to_stage"], r["occurred_at"],
                   r["reconstructed"]) for r in _rows(store, "raw_stage_transitions"))


# -- the same world in four forms -------------------------------------------------------------

@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each form imported into its own store: the result and the stored rows."""
    out: dict[str, dict[str, Any]] = {}
    for form in FORMS:
        folder = tmp_path_factory.mktemp(form)
        with connect(f"duckdb:///{folder / 's.duckdb'}") as store:
            result = _import(store, write_form(folder / "files", form))
            out[form] = {
                "result": result,
                "rows": {name: _canonical(store, name, ("custom", "owner_id"))
                         for name in ("contacts", "accounts", "opportunities")},
                "moves": _moves(store),
                "contacts": _by(store, "raw_contacts", "contact_id"),
                "accounts": _by(store, "raw_accounts", "account_id"),
                "deals": _by(store, "raw_opportunities", "opportunity_id"),
                "touches": _by(store, "raw_touchpoints", "touchpoint_id"),
                "roles": _rows(store, "raw_opportunity_contacts"),
            }
    return out


@pytest.mark.parametrize("form", ["ui", "fivetran", "airbyte"])
def test_every_form_stores_the_api_exports_rows(imported: dict[str, Any], form: str) -> None:
    assert imported[form]["result"].reconciles
    assert imported[form]["result"].total("quarantined") == 0
    for name in ("contacts", "accounts", "opportunities"):
        assert imported[form]["rows"][name] == imported["api"]["rows"][name], (form, name)
    assert imported[form]["moves"] == imported["api"]["moves"], form


def test_the_api_rows_are_the_world(imported: dict[str, Any]) -> None:
    ann = imported["api"]["contacts"]["101"]
    assert {k: ann[k] for k in ("email", "first_name", "title", "country", "lifecycle_stage",
                                "lead_status", "lead_source", "account_id")} == {
        "email": "ann@acme.example", "first_name": "Ann", "title": "CMO", "country": "Germany",
        "lifecycle_stage": "customer", "lead_status": "CONNECTED", "lead_source": "PAID_SEARCH",
        "account_id": "9001"}
    assert imported["api"]["contacts"]["103"]["lead_source"] == "OFFLINE"
    won = imported["api"]["deals"]["5001"]
    assert (won["stage"], won["opportunity_type"], won["is_won"], won["account_id"],
            won["amount"]) == ("closedwon", "new", True, "9001", 48000.0)
    assert imported["api"]["deals"]["5002"]["opportunity_type"] == "expansion"
    assert imported["api"]["accounts"]["9002"]["domain"] == "acme-eu.example"
    moves = imported["api"]["moves"]
    assert ("contact", "101", "marketingqualifiedlead", pd.Timestamp("2024-01-15 10:00"),
            False) in moves
    assert ("opportunity", "5001", "closedwon", pd.Timestamp("2024-03-01"), False) in moves
    # companies carry no stage dates: reconstructed from createdate and the last change
    assert ("account", "9001", "customer", pd.Timestamp("2024-03-01"), True) in moves


def test_ui_export_owner_names_are_the_owner(imported: dict[str, Any]) -> None:
    ui = imported["ui"]
    assert ui["contacts"]["101"]["owner_id"] == "Jane Rep"
    assert ui["deals"]["5001"]["owner_id"] == "Jane Rep"
    assert ui["accounts"]["9001"]["owner_id"] == "Jane Rep"
    assert imported["api"]["contacts"]["101"]["owner_id"] == "77"
    assert imported["fivetran"]["deals"]["5001"]["owner_id"] == "77"  # Fivetran's owner_id


def test_ui_export_first_touch_from_labels(imported: dict[str, Any]) -> None:
    touches = imported["ui"]["touches"]
    assert {k: t["channel"] for k, t in touches.items()} == {
        "hs-first-101": "paid_search", "hs-first-102": "organic_search",
        "hs-first-103": "events"}
    assert json.loads(touches["hs-first-101"]["properties"]) == {
        "Original Traffic Source Drill-Down 1": "crm tools"}
    assert {k: (t["channel"], t["occurred_at"]) for k, t in touches.items()} == {
        k: (t["channel"], t["occurred_at"]) for k, t in imported["api"]["touches"].items()}


def test_ui_export_custom_keeps_labels_and_repeated_labels(imported: dict[str, Any]) -> None:
    custom = json.loads(imported["ui"]["contacts"]["101"]["custom"])
    assert custom["Lead Source"] == "Webinar" and custom["Lead Source (2)"] == "Partner"
    assert custom["Associated Company"] == "Acme"
    assert custom['Date exited "Lead (Lifecycle Stage Pipeline)"'] == "2024-01-15 10:00"
    deal = json.loads(imported["ui"]["deals"]["5001"]["custom"])
    assert deal["Deal Type"] == "New Business" and deal["Pipeline"] == "Sales Pipeline"
    assert deal["Amount in company currency"] == "52000"


def test_fivetran_tables(imported: dict[str, Any]) -> None:
    ft = imported["fivetran"]
    result = ft["result"]
    notices = [n for f in result.files for n in f.notices]
    assert "1 row deleted in HubSpot (_fivetran_deleted true) was skipped; it is not counted " \
           "in read" in notices
    assert "1 row deleted in HubSpot (is_deleted true) was skipped; it is not counted in " \
           "read" in notices
    assert "104" not in ft["contacts"] and "5003" not in ft["deals"]
    # the primary association (type 1 / type 5) wins over an earlier unlabeled one
    assert ft["contacts"]["101"]["account_id"] == "9001"
    assert ft["deals"]["5001"]["account_id"] == "9001"
    assert sorted((r["opportunity_id"], r["contact_id"]) for r in ft["roles"]) == [
        ("5001", "101"), ("5002", "102")]
    assert any("deal_company is an association table" in n for n in notices)
    custom = json.loads(ft["deals"]["5001"]["custom"])
    assert not any(k.startswith("_fivetran") for k in custom)
    assert custom["deal_pipeline_id"] == "default"  # Fivetran's own column, kept as named
    assert result.entities["contacts"].read == 3  # the deleted contact is not read


def test_airbyte_streams(imported: dict[str, Any]) -> None:
    ab = imported["airbyte"]
    notices = [n for f in ab["result"].files for n in f.notices]
    assert notices.count(
        "1 row deleted in HubSpot (archived true) was skipped; it is not counted in read") == 2
    custom = json.loads(ab["contacts"]["101"]["custom"])
    assert not any(k.startswith("_airbyte") for k in custom)
    assert "properties" not in custom  # the JSON object duplicates the flattened columns
    assert ab["contacts"]["101"]["account_id"] == "9001"  # from the companies array


# -- file names -------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "table"), [
    ("all-contacts.csv", "raw_contacts"),
    ("all-deals.csv", "raw_opportunities"),
    ("all-companies.csv", "raw_accounts"),
    ("hubspot-crm-exports-all-deals-2024-03-05.csv", "raw_opportunities"),
    ("hubspot-crm-exports-my-contacts-2024-03-05-1.csv", "raw_contacts"),
    ("hubspot-crm-exports-all-companies-2024-03-05.csv", "raw_accounts"),
    ("contact.csv", "raw_contacts"), ("deal.parquet.csv", "raw_opportunities"),
    ("hubspot_contacts.csv", "raw_contacts"),  # a warehouse table with a schema prefix
])
def test_hubspot_file_names(store: Store, tmp_path: Path, name: str, table: str) -> None:
    result = _import(store, _write(tmp_path, {name: "Record ID,Create Date\n7,2024-01-01 10:00\n"}))
    assert result.reconciles
    assert len(_rows(store, table)) == 1


def test_engagement_tables_by_name(store: Store, tmp_path: Path) -> None:
    files = {
        "engagement_call.csv": ("engagement_id,type,property_hs_timestamp,_fivetran_synced\n"
                                "7001,CALL,2024-02-02T15:00:00Z,2024-05-01T00:00:00Z\n"),
        "engagements_meetings.csv": ("id,properties_hs_timestamp,contacts,companies,archived,"
                                     "_airbyte_raw_id\n"
                                     '7002,2024-02-03T15:00:00Z,"[""101""]","[""9001""]",'
                                     "false,r\n"),
    }
    assert _import(store, _write(tmp_path, files)).reconciles
    touches = _by(store, "raw_touchpoints", "touchpoint_id")
    assert {k: (t["touch_type"], t["channel"], t["contact_id"]) for k, t in touches.items()} == {
        "7001": ("call", "outbound_sales", None), "7002": ("meeting", "outbound_sales", "101")}


def test_fivetran_engagement_with_association_tables(store: Store, tmp_path: Path) -> None:
    files = {
        "engagement.csv": ("id,type,timestamp,created_at,owner_id,active,_fivetran_synced\n"
                           "7001,CALL,2024-02-02T15:00:00Z,2024-02-02T15:00:00Z,77,true,x\n"),
        "engagement_contact.csv": "engagement_id,contact_id,_fivetran_synced\n7001,101,x\n",
        "engagement_company.csv": "engagement_id,company_id,_fivetran_synced\n7001,9001,x\n",
    }
    result = _import(store, _write(tmp_path, files))
    assert result.reconciles and result.total("stored") == 1
    (touch,) = _rows(store, "raw_touchpoints")
    assert (touch["touch_type"], touch["contact_id"], touch["account_id"]) == (
        "call", "101", "9001")


def test_prefixed_deal_stage_table_name(store: Store, tmp_path: Path) -> None:
    files = {"hubspot_deal_stage.csv": FORMS["fivetran"]["deal_stage.csv"]}
    assert _import(store, _write(tmp_path, files)).reconciles
    assert len(_moves(store)) == 4


def test_airbyte_properties_object_without_flattened_columns(store: Store, tmp_path: Path
                                                             ) -> None:
    text = ('id,createdAt,archived,properties,_airbyte_raw_id\n'
            '1,2024-01-01T00:00:00Z,false,"{""email"":""a@b.example""}",r\n')
    result = _import(store, _write(tmp_path, {"contacts.csv": text}))
    assert result.reconciles
    assert any("not mapped" in n for f in result.files for n in f.notices)
    (row,) = _rows(store, "raw_contacts")
    assert json.loads(row["custom"]) == {"properties": '{"email":"a@b.example"}'}


def test_unknown_name_still_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot tell which HubSpot object"):
        _import(store, _write(tmp_path, {"hubspot-crm-exports-2024.csv": "Record ID\n1\n"}))


# -- repeated labels --------------------------------------------------------------------------

def test_repeated_labels_reach_custom_and_map_once(store: Store, tmp_path: Path) -> None:
    text = ("Record ID,Email,Create Date,Lifecycle Stage,Lifecycle Stage (2),Lead Source,"
            "Lead Source (2),Email (2)\n"
            "101,ann@acme.example,2024-01-05 10:00,Lead,Customer,Webinar,Partner,a@b.example\n")
    result = _import(store, _write(tmp_path, {"all-contacts.csv": text}))
    assert result.reconciles and result.total("quarantined") == 0
    ann = _by(store, "raw_contacts", "contact_id")["101"]
    assert (ann["lifecycle_stage"], ann["email"]) == ("lead", "ann@acme.example")
    assert json.loads(ann["custom"]) == {
        "Lifecycle Stage": "Lead", "Lifecycle Stage (2)": "Customer", "Lead Source": "Webinar",
        "Lead Source (2)": "Partner", "Email": "ann@acme.example", "Email (2)": "a@b.example"}


# -- reconstruction ---------------------------------------------------------------------------

API_NO_DATES = """\
hs_object_id,email,createdate,lastmodifieddate,lifecyclestage,hs_lifecyclestage_lead_date
101,ann@acme.example,2024-01-05T10:00:00Z,2024-02-01T09:00:00Z,customer,
102,bob@beta.example,2024-01-06T10:00:00Z,2024-01-20T09:00:00Z,marketingqualifiedlead,
103,cy@gamma.example,2024-01-07T10:00:00Z,2024-01-08T09:00:00Z,lead,2024-01-07T10:00:00Z
104,di@delta.example,2024-01-08T10:00:00Z,,subscriber,
"""


def test_contacts_without_stage_dates_are_reconstructed_row_by_row(
    store: Store, tmp_path: Path,
) -> None:
    assert _import(store, _write(tmp_path, {"contacts.csv": API_NO_DATES})).reconciles
    ts = pd.Timestamp
    assert _moves(store) == [
        ("contact", "101", "customer", ts("2024-02-01 09:00"), True),
        ("contact", "101", "lead", ts("2024-01-05 10:00"), True),
        ("contact", "102", "lead", ts("2024-01-06 10:00"), True),
        ("contact", "102", "marketingqualifiedlead", ts("2024-01-20 09:00"), True),
        ("contact", "103", "lead", ts("2024-01-07 10:00"), False),  # real stage date: kept
        ("contact", "104", "subscriber", ts("2024-01-08 10:00"), True),
    ]


def test_deals_without_stage_dates_are_reconstructed(store: Store, tmp_path: Path) -> None:
    text = ("hs_object_id,createdate,hs_lastmodifieddate,closedate,dealstage\n"
            "1,2024-01-01T00:00:00Z,2024-02-05T00:00:00Z,2024-02-01T00:00:00Z,closedwon\n"
            "2,2024-01-02T00:00:00Z,2024-02-05T00:00:00Z,,contractsent\n"
            "3,2024-01-03T00:00:00Z,2024-02-05T00:00:00Z,,appointmentscheduled\n"
            "4,2024-01-04T00:00:00Z,2024-02-05T00:00:00Z,,987654\n")
    assert _import(store, _write(tmp_path, {"deals.csv": text})).reconciles
    ts = pd.Timestamp
    assert _moves(store) == [
        ("opportunity", "1", "appointmentscheduled", ts("2024-01-01"), True),
        ("opportunity", "1", "closedwon", ts("2024-02-01"), True),  # closed: its closedate
        ("opportunity", "2", "appointmentscheduled", ts("2024-01-02"), True),
        ("opportunity", "2", "contractsent", ts("2024-02-05"), True),  # last modified
        ("opportunity", "3", "appointmentscheduled", ts("2024-01-03"), True),
        ("opportunity", "4", "987654", ts("2024-01-04"), True),  # custom stage: one row
    ]


def test_funnel_runs_on_an_api_export_without_stage_dates(store: Store, tmp_path: Path) -> None:
    from revloop.facade import funnel

    files = {"contacts.csv": API_NO_DATES,
             "deals.csv": ("hs_object_id,createdate,closedate,dealstage\n"
                           "5001,2024-01-20T00:00:00Z,2024-03-01T00:00:00Z,closedwon\n")}
    assert _import(store, _write(tmp_path, files)).reconciles
    facade.build_model(store)
    result = funnel.run(store, funnel.build_request())
    entered = {row["stage"]: row["entered"] for row in result.to_json()["funnel"]}
    assert entered["inquiry"] == 4 and entered["mql"] == 2 and entered["won"] == 1
    deals = funnel.run(store, funnel.build_request(level="opportunity")).to_json()
    assert {r["stage"]: r["entered"] for r in deals["funnel"]}["won"] == 1


def test_fivetran_deal_stage_history_is_not_reconstructed(store: Store, tmp_path: Path) -> None:
    files = {k: v for k, v in FORMS["fivetran"].items() if k in ("deal.csv", "deal_stage.csv")}
    assert _import(store, _write(tmp_path, files)).reconciles
    assert not any(m[4] for m in _moves(store) if m[0] == "opportunity")


def test_uppercase_warehouse_columns(store: Store, tmp_path: Path) -> None:
    text = ("ID,PROPERTY_EMAIL,PROPERTY_CREATEDATE,PROPERTY_LIFECYCLESTAGE,"
            "PROPERTY_HS_LIFECYCLESTAGE_LEAD_DATE,_FIVETRAN_DELETED\n"
            "1,a@b.example,2024-01-01T00:00:00Z,lead,2024-01-01T00:00:00Z,FALSE\n")
    assert _import(store, _write(tmp_path, {"CONTACT.csv": text}), layout="fivetran").reconciles
    (row,) = _rows(store, "raw_contacts")
    assert (row["email"], row["lifecycle_stage"]) == ("a@b.example", "lead")
    assert _moves(store) == [("contact", "1", "lead", pd.Timestamp("2024-01-01"), False)]


def test_ui_deal_stage_dates_of_two_pipelines(store: Store, tmp_path: Path) -> None:
    text = ('Record ID,Deal Stage,Create Date,"Date entered ""Closed Won (Sales Pipeline)""",'
            '"Date entered ""Closed Won (Renewals Pipeline)""",'
            '"Date entered ""Demo Booked (Renewals Pipeline)"""\n'
            "1,Closed Won,2024-01-01 00:00,2024-02-01 00:00,,\n"
            "2,Closed Won,2024-01-01 00:00,,2024-03-01 00:00,2024-02-15 00:00\n")
    assert _import(store, _write(tmp_path, {"all-deals.csv": text})).reconciles
    ts = pd.Timestamp
    assert _moves(store) == [
        ("opportunity", "1", "closedwon", ts("2024-02-01"), False),
        ("opportunity", "2", "Closed Won", ts("2024-03-01"), False),  # not the default pipeline
        ("opportunity", "2", "Demo Booked", ts("2024-02-15"), False),  # a custom stage
    ]


def test_v2_lifecycle_dates(store: Store, tmp_path: Path) -> None:
    text = ("hs_object_id,createdate,lifecyclestage,hs_v2_date_entered_lead,"
            "hs_v2_date_entered_customer,hs_v2_date_exited_lead\n"
            "1,2024-01-01T00:00:00Z,customer,2024-01-01T00:00:00Z,2024-02-01T00:00:00Z,"
            "2024-02-01T00:00:00Z\n")
    assert _import(store, _write(tmp_path, {"contacts.csv": text})).reconciles
    assert _moves(store) == [
        ("contact", "1", "customer", pd.Timestamp("2024-02-01"), False),
        ("contact", "1", "lead", pd.Timestamp("2024-01-01"), False)]


def test_a_second_pass_over_a_file_counts_nothing_twice(tmp_path: Path) -> None:
    """The date pre-pass may run the adapter's prepare over the file before the import does:
    the skipped rows are counted once."""
    from revloop.ingest.adapters.hubspot import HubSpotAdapter
    from revloop.ingest.readers import open_file

    (path,) = _write(tmp_path, {"contact.csv": FORMS["fivetran"]["contact.csv"]})
    adapter = HubSpotAdapter()
    src = open_file(path)
    adapter.specs_for(src)
    for _ in range(2):
        kept = sum(adapter.prepare(src.path, b).num_rows for b in src.batches())
        assert kept == 3
    assert src.notices == ["1 row deleted in HubSpot (_fivetran_deleted true) was skipped; "
                           "it is not counted in read"]


def test_fivetran_history_mode_keeps_the_active_version(tmp_path: Path) -> None:
    # history mode: every older version of a record stays with _fivetran_active false
    path = tmp_path / "contact.csv"
    path.write_text(
        "id,property_email,property_createdate,_fivetran_active,_fivetran_start,_fivetran_synced\n"
        "201,old@acme.test,2024-01-02T09:00:00Z,false,2024-01-02T09:00:00Z,2024-03-01T00:00:00Z\n"
        "201,new@acme.test,2024-01-02T09:00:00Z,true,2024-02-10T09:00:00Z,2024-03-01T00:00:00Z\n"
        "202,b@acme.test,2024-01-05T09:00:00Z,TRUE,2024-01-05T09:00:00Z,2024-03-01T00:00:00Z\n",
        encoding="utf-8")
    with connect(f"duckdb:///{tmp_path / 's.duckdb'}") as store:
        result = facade.import_files(store, "hubspot", [path])
        rows = {r["contact_id"]: r["email"]
                for r in store.table("raw_contacts").to_pyarrow().to_pylist()}
    assert result.reconciles and result.entities["contacts"].quarantined == 0
    assert rows == {"201": "new@acme.test", "202": "b@acme.test"}
    assert ("1 row deleted in HubSpot or an older version (_fivetran_active false) was "
            "skipped; it is not counted in read") in result.files[0].notices
