"""Every build step is planned with hash joins on DuckDB: a nested-loop join (what a left
join whose ON clause also tests one side's column becomes) is quadratic in the rows and made
the build grow super-linearly with the company."""

from __future__ import annotations

from pathlib import Path

import ibis

from revloop import facade
from revloop.model.steps import BuildOptions, plan
from revloop.store import connect
from tests.model.world import write_world

QUADRATIC = ("NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "CROSS_PRODUCT")


def test_no_build_step_is_planned_with_a_nested_loop_join(tmp_path: Path) -> None:
    with connect(f"duckdb:///{tmp_path / 'plans.duckdb'}") as store:
        facade.import_files(store, "canonical", write_world(tmp_path / "files"))
        facade.build_model(store)
        con = store.con  # type: ignore[attr-defined]
        found = {}
        for step in plan():
            expr = step.build({n: store.table(n) for n in step.inputs}, BuildOptions())
            text = "\n".join(r[1] for r in con.execute(f"EXPLAIN {ibis.to_sql(expr)}").fetchall())
            bad = [k for k in QUADRATIC if k in text]
            if bad:
                found[step.name] = bad
    assert found == {}
