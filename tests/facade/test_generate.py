"""The generated company goes through the real importer into every engine, builds, and its
truth lands beside it."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from revloop.facade.generate import generate_company
from revloop.store import Store, connect


def test_company_into_every_store(backend: Store, tmp_path: Path) -> None:
    outcome = generate_company(0.002, 5, out=tmp_path / "company", db=backend.url)
    backend.close()
    backend = connect(backend.url)  # another session sees what the generator stored
    imported = outcome.imported
    assert imported is not None and imported.reconciles
    assert imported.total("quarantined") == 0
    assert imported.total("stored") == sum(outcome.generated.rows.values())
    assert backend.count("data_issues") == 0
    for name, rows in outcome.truth_tables.items():
        assert backend.count(name) == rows > 0
    # the store holds what the files hold
    touches = pq.read_table(tmp_path / "company" / "touchpoints.parquet")
    assert backend.count("touchpoints") == touches.num_rows
    fx = backend.table("truth_channel_effects").to_pyarrow().to_pylist()
    assert {r["channel"] for r in fx} >= {"events", "paid_search", "direct"}
    assert outcome.marts["opportunities"] == outcome.generated.rows["opportunities"]
    backend.close()
