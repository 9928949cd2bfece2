"""The key + hash merge on every engine: insert, duplicate, update, conflict."""

from __future__ import annotations

from pathlib import Path

import pytest

from revloop.errors import ConfigError
from revloop.store import Store, connect
from tests.ingest.helpers import canonical, write

V1 = "opportunity_id,account_id,amount,stage,close_date\no1,a1,100,discovery,2024-03-01\n" \
     "o2,a1,250.5,proposal,2024-04-01\n"


def _amounts(store: Store) -> dict[str, float]:
    rows = store.table("raw_opportunities").to_pyarrow().to_pylist()
    return {r["opportunity_id"]: r["amount"] for r in rows}


def test_merge_semantics(backend: Store, tmp_path: Path) -> None:
    first = canonical(backend, write(tmp_path / "a" / "opportunities.csv", V1))
    assert (first.total("stored"), first.total("duplicates")) == (2, 0)
    again = canonical(backend, write(tmp_path / "b" / "opportunities.csv", V1))
    assert (again.total("stored"), again.total("duplicates")) == (0, 2)
    changed = V1.replace("o2,a1,250.5,proposal", "o2,a1,300,negotiation") + \
        "o3,a2,10,discovery,2024-05-01\no3,a2,11,discovery,2024-05-01\n"
    third = canonical(backend, write(tmp_path / "c" / "opportunities.csv", changed))
    counts = third.entities["opportunities"]
    assert (counts.inserted, counts.updated, counts.duplicates, counts.quarantined) == (
        1, 1, 1, 1)
    assert third.reconciles
    assert _amounts(backend) == {"o1": 100.0, "o2": 300.0, "o3": 10.0}
    assert backend.count("raw_opportunities") == 3
    assert backend.count("quarantine") == 1


def test_composite_keys_with_empty_parts(duck: Store, tmp_path: Path) -> None:
    quotas = ("period_start,period_end,channel,team_id,amount,metric\n"
              "2024-01-01,2024-03-31,paid_search,,1000,\n"
              "2024-01-01,2024-03-31,,paid_search,2000,\n"
              "2024-01-01,2024-03-31,inbound,,5000,bookings\n"
              "2024-01-01,2024-03-31,inbound,,15000,pipeline\n")
    result = canonical(duck, write(tmp_path / "quotas.csv", quotas))
    # NULL in different key parts: different keys; one target per metric
    assert result.total("stored") == 4


@pytest.mark.parametrize("url", ["mysql://x", "duckdb:///x.duckdb?cache=1", "nonsense"])
def test_bad_urls(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError):
        connect(url)


def test_duckdb_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rel = connect("duckdb:///rel.duckdb")
    assert rel.path == "rel.duckdb"  # type: ignore[attr-defined]
    rel.close()
    absolute = connect(f"duckdb:///{tmp_path / 'abs.duckdb'}?memory_limit=256MB")
    assert absolute.path == str(tmp_path / "abs.duckdb")  # type: ignore[attr-defined]
    absolute.close()
    memory = connect("duckdb://:memory:")
    assert memory.list_tables()
    memory.close()
