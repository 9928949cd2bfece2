"""The shipped mapping files on the real public data sets in ../shared/datasets."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import ImportResult, run_import
from revloop.store import Store
from tests.conftest import EXAMPLES, datasets_or_skip


def _import(store: Store, mapping: str, files: list[Path]) -> ImportResult:
    return run_import(store, get_adapter("mapped", mapping=EXAMPLES / mapping), files)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_olist_reconciles_and_reimport_stores_nothing(duck: Store) -> None:
    folder = datasets_or_skip() / "olist_marketing_funnel"
    files = sorted(folder.glob("*.csv"))
    leads = _rows(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = _rows(folder / "olist_closed_deals_dataset.csv")
    first = _import(duck, "olist.yaml", files)
    assert first.reconciles
    c = first.entities
    assert (c["contacts"].read, c["contacts"].stored) == (len(leads), 8000)
    assert c["touchpoints"].stored == 8000
    assert c["stage_transitions"].stored == len(leads) + len(deals) == 8842
    assert c["opportunities"].stored == 842
    # channels as the mapping normalises them, counted independently from the CSV
    renames = {"direct_traffic": "direct", "social": "organic_social",
               "other_publicities": "display", "unknown": "other"}
    expected = Counter(renames.get(r["origin"], r["origin"]) or None for r in leads)
    t = duck.table("raw_touchpoints")
    rows = t.group_by("channel").agg(n=t.count()).to_pyarrow().to_pylist()
    assert {r["channel"]: r["n"] for r in rows} == dict(expected)
    second = _import(duck, "olist.yaml", files)
    assert second.reconciles and second.total("stored") == 0
    assert second.total("duplicates") == first.total("read")


def test_maven_crm(duck: Store) -> None:
    folder = datasets_or_skip() / "maven_crm_sales_opportunities"
    files = [folder / f for f in ("accounts.csv", "sales_teams.csv", "sales_pipeline.csv")]
    result = _import(duck, "maven_crm.yaml", files)
    assert result.reconciles and result.total("quarantined") == 0
    pipeline = _rows(folder / "sales_pipeline.csv")
    opps = duck.table("raw_opportunities").to_pandas().set_index("opportunity_id")
    assert len(opps) == len(pipeline) == 8800
    won = [r for r in pipeline if r["deal_stage"] == "Won"]
    assert int(opps.is_won.sum()) == len(won)
    assert opps.loc[opps.is_won, "amount"].sum() == pytest.approx(
        sum(float(r["close_value"]) for r in won))
    assert "GTXPro" not in set(opps["product"]) and "GTX Pro" in set(opps["product"])
    accounts = duck.table("raw_accounts").to_pandas()
    assert "technolgy" not in set(accounts.industry) and len(accounts) == 85
    # engage + close transitions: one per engaged deal, one per closed deal
    closed = sum(r["deal_stage"] in ("Won", "Lost") for r in pipeline)
    engaged = sum(bool(r["engage_date"]) for r in pipeline)
    assert result.entities["stage_transitions"].stored == closed + engaged
    assert result.entities["teams"].duplicates == 29  # one row per agent, 6 managers


def test_x_education_keeps_every_attribute(duck: Store) -> None:
    path = datasets_or_skip() / "x_education_lead_scoring" / "Leads.csv"
    result = _import(duck, "x_education.yaml", [path])
    assert result.reconciles and result.total("stored") == 9240
    contacts = duck.table("raw_contacts").to_pandas()
    assert (contacts.lifecycle_stage == "customer").sum() == 3561
    import json

    custom = [json.loads(v) for v in contacts.custom]
    assert all("Lead Number" in c for c in custom)
    # 'Select' means "not chosen" and is read as empty
    assert not any(v == "Select" for c in custom for v in c.values())
    assert sum("Tags" in c for c in custom) > 5000  # kept, to be excluded by scoring
