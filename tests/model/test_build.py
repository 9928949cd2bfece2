"""The build on every engine: hand-checked identity resolution and identical marts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import run_import
from revloop.model.build import MART_KEYS, BuildOptions, build
from revloop.settings import DEFAULT_FREE_MAIL_DOMAINS
from revloop.store import Store
from tests.conftest import make_store
from tests.model.world import write_world

OPTIONS = BuildOptions(free_mail_domains=DEFAULT_FREE_MAIL_DOMAINS)


def _built(store: Store, tmp_path: Path) -> dict[str, int]:
    result = run_import(store, get_adapter("canonical"), write_world(tmp_path / "world"))
    assert result.reconciles
    return build(store, OPTIONS)


def _frame(store: Store, name: str) -> pd.DataFrame:
    df = store.table(name).to_pandas()
    keys = list(MART_KEYS.get(name, ())) + [c for c in df.columns if c not in MART_KEYS.get(
        name, ())]
    return df.sort_values(keys, key=lambda s: s.astype(str)).reset_index(drop=True)


def test_identity_resolution_by_hand(backend: Store, tmp_path: Path) -> None:
    counts = _built(backend, tmp_path)
    merges = dict(_frame(backend, "int_contact_merges")[
        ["contact_id", "canonical_contact_id"]].itertuples(index=False))
    # converted lead → its contact; same e-mail (case/space-insensitive) → the contact record
    assert merges == {"c-1": "c-1", "c-2": "c-2", "c-3": "c-3", "c-4": "c-1",
                      "l-1": "c-1", "l-2": "l-2", "l-3": "c-2"}
    contacts = _frame(backend, "contacts").set_index("contact_id")
    assert list(contacts.index) == ["c-1", "c-2", "c-3", "l-2"]
    assert counts["contacts"] == 4
    # Bob had no account: joined by e-mail domain; Carl's gmail.com is free mail, Dora unknown
    assert contacts.loc["c-2", "account_id"] == "acc-2"
    assert contacts.loc["c-2", "account_match"] == "email_domain"
    assert pd.isna(contacts.loc["c-3", "account_id"])
    assert pd.isna(contacts.loc["l-2", "account_id"])
    assert contacts.loc["c-1", "merged_records"] == 2
    # anonymous touches before the identify become the contact's (and its account's)
    tps = _frame(backend, "touchpoints").set_index("touchpoint_id")
    assert tps.loc[["t-1", "t-2", "t-3", "t-4"], "contact_id"].tolist() == ["c-1"] * 4
    assert tps.loc[["t-1", "t-2"], "identity"].tolist() == ["stitched", "stitched"]
    assert tps.loc["t-1", "account_id"] == "acc-1"
    assert pd.isna(tps.loc["t-5", "contact_id"]) and tps.loc["t-5", "identity"] == "anonymous"
    assert tps.loc["t-6", "contact_id"] == "c-2" and tps.loc["t-6", "account_id"] == "acc-2"
    # both histories kept under the surviving id
    st = _frame(backend, "stage_transitions")
    people = st[st.entity_type.isin(["lead", "contact"])]
    assert sorted(zip(people.entity_id, people.original_entity_id, people.to_stage,
                      strict=True)) == [
        ("c-1", "c-1", "sql"), ("c-1", "c-4", "mql"), ("c-1", "l-1", "inquiry"),
        ("c-1", "l-1", "mql")]
    roles = _frame(backend, "opportunity_contacts")
    assert roles.contact_id.tolist() == ["c-1", "c-1"]
    # the orphan reference is kept in the mart and listed in data_issues
    issues = _frame(backend, "data_issues")
    assert ("opportunities", "o-2", "account_id", "acc-9") in set(
        issues[["entity", "entity_key", "column_name", "value"]].itertuples(index=False,
                                                                           name=None))
    enhanced = _frame(backend, "opportunity_enhanced").set_index("opportunity_id")
    assert enhanced.loc["o-1", "account_name"] == "Acme"
    assert enhanced.loc["o-1", "owner_name"] == "Rita Rep"
    assert enhanced.loc["o-1", "contact_roles"] == 2
    assert enhanced.loc["o-1", "cycle_days"] == pytest.approx(59.625)


def _normalised(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = pd.to_datetime(out[col]).dt.tz_localize(None).astype("datetime64[us]")
        elif out[col].dtype == object:
            sample = out[col].dropna()
            if len(sample) and hasattr(sample.iloc[0], "isoformat"):
                out[col] = pd.to_datetime(out[col]).astype("datetime64[us]")
    return out.astype(object).where(out.notna(), None)


@pytest.mark.spark
def test_identical_marts_on_every_engine(tmp_path: Path, pg_url: str) -> None:
    frames: dict[str, dict[str, pd.DataFrame]] = {}
    for engine in ("duckdb", "postgres", "spark"):
        store = make_store(engine, tmp_path / engine, pg_url)
        counts = _built(store, tmp_path / engine)
        frames[engine] = {name: _normalised(_frame(store, name)) for name in counts}
        store.close()
    for name, expected in frames["duckdb"].items():
        for engine in ("postgres", "spark"):
            got = frames[engine][name]
            assert list(got.columns) == list(expected.columns), (engine, name)
            pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=f"{engine}.{name}")
