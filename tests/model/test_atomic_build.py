"""An interrupted build leaves the marts in force as they were; the next build says so."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import run_import
from revloop.model import history, tables
from revloop.model.build import BuildOptions, build
from revloop.store import Store, connect
from revloop.store.base import BUILDS
from tests.conftest import ROOT, make_store
from tests.model.world import write_world

KILLER = """
import os, signal, sys
from revloop.model.build import build
from revloop.store import connect
stop_at, how = sys.argv[2], sys.argv[3]
def hook(step):
    if step == stop_at:
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise KeyboardInterrupt
store = connect(sys.argv[1])
build(store, step=hook)
"""


def marts_digest(store: Store) -> str:
    """One hash of the content of every mart (order-independent)."""
    h = hashlib.sha256()
    for name in tables.MARTS:
        rows = sorted(repr(sorted(r.items())) for r in store.to_arrow(name).to_pylist())
        h.update(name.encode())
        h.update("\n".join(rows).encode())
    return h.hexdigest()


def _store(engine: str, tmp_path: Path, pg_url: str | None) -> str:
    store = make_store(engine, tmp_path, pg_url)
    url = store.url
    assert run_import(store, get_adapter("canonical"), write_world(tmp_path / "w")).reconciles
    build(store, BuildOptions())
    store.close()
    return url


def _stop_build(url: str, how: str) -> None:
    """Run a build that is killed (another process, kill -9) or interrupted (Ctrl-C, in this
    process) when it reaches the accounts mart (which the new account makes it rebuild)."""
    if how == "kill":
        proc = subprocess.run([sys.executable, "-c", KILLER, url, tables.ACCOUNTS, how],
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == -9, proc.stderr
        return

    def hook(step: str) -> None:
        if step == tables.ACCOUNTS:
            raise KeyboardInterrupt

    with connect(url) as store, pytest.raises(KeyboardInterrupt):
        build(store, BuildOptions(), hook)


@pytest.mark.parametrize(("engine", "how"), [
    ("duckdb", "kill"), ("duckdb", "interrupt"), ("postgres", "kill"), ("postgres", "interrupt"),
    pytest.param("spark", "interrupt", marks=pytest.mark.spark)])
def test_interrupted_build_keeps_the_marts_in_force(engine: str, how: str, tmp_path: Path,
                                                    request: pytest.FixtureRequest) -> None:
    pg = request.getfixturevalue("pg_url") if engine == "postgres" else None
    url = _store(engine, tmp_path, pg)
    with connect(url) as store:
        before = marts_digest(store)
        # new data, so the next build would change the marts
        more = tmp_path / "more"
        more.mkdir()
        (more / "accounts.csv").write_text("account_id,name\nacc-new,Newco\n", encoding="utf-8")
        assert run_import(store, get_adapter("canonical"), [more / "accounts.csv"]).reconciles
    _stop_build(url, how)
    with connect(url) as store:
        assert marts_digest(store) == before  # not one mart changed
        # a killed build could not say it stopped; an interrupted one leaves it to the next
        assert (history.last(store) or {})["status"] == "running"
        notes: list[str] = []
        store.on_notice = notes.append
        counts = build(store, BuildOptions())
        assert counts[tables.ACCOUNTS] == 4
        assert any("did not finish" in n for n in notes)
        assert not [t for t in store.list_tables() if t.startswith("_next_")]
        statuses = [r["status"] for r in store.to_arrow(BUILDS).to_pylist()]
        assert statuses == ["complete", "interrupted", "complete"]
