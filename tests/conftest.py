"""Shared fixtures: a store on every engine, small worlds built in code, the real data sets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from revloop.store import Store, connect

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
EXAMPLES = ROOT / "examples"
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


def datasets_or_skip() -> Path:
    """The shared real data sets, or a clean skip when the folder is absent."""
    if not DATASETS.is_dir():
        pytest.skip(f"real data sets not found at {DATASETS}")
    return DATASETS


def _pg_available() -> bool:
    try:
        psycopg.connect(**PG_ADMIN, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    if not _pg_available():
        pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 (make test starts it)")
    name = f"revloop_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}".encode())
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(**PG_ADMIN, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def make_store(engine: str, tmp_path: Path, pg: str | None = None) -> Store:
    """A fresh store of ``engine`` under ``tmp_path``."""
    if engine == "duckdb":
        return connect(f"duckdb:///{tmp_path / 'store.duckdb'}")
    if engine == "postgres":
        assert pg is not None
        return connect(pg)
    return connect(f"spark://local?warehouse={tmp_path / 'warehouse'}")


@pytest.fixture(params=["duckdb", "postgres", pytest.param("spark", marks=pytest.mark.spark)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on each engine in turn (the one test suite over every engine).

    An engine gap is declared on the test, never branched on in it:
    ``@pytest.mark.notimpl(["spark"], reason="…")`` makes that engine's run a strict xfail.
    """
    marker = request.node.get_closest_marker("notimpl")
    if marker is not None and request.param in marker.args[0]:
        request.applymarker(pytest.mark.xfail(
            strict=True, reason=f"not implemented on {request.param}: "
            f"{marker.kwargs.get('reason', '')}"))
    pg = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    store = make_store(request.param, tmp_path, pg)
    yield store
    store.close()


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[Store]:
    """A fresh DuckDB store."""
    store = connect(f"duckdb:///{tmp_path / 'store.duckdb'}")
    yield store
    store.close()


@pytest.fixture(params=["duckdb", "postgres", pytest.param("spark", marks=pytest.mark.spark)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh store on each engine in turn (for tests that open it themselves)."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'store.duckdb'}"
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return f"spark://local?warehouse={tmp_path / 'warehouse'}"
