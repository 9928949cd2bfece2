"""Store URLs that cannot run SQL, files that are not stores, schema versions and damage."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from revloop.errors import ConfigError, StoreError
from revloop.store import connect
from revloop.store.base import BUILDS, STORE_META
from revloop.store.versions import SCHEMA_VERSION


@pytest.mark.parametrize("query", [
    "threads=1';DROP TABLE raw_accounts;--", "memory_limit=1GB'; DROP TABLE raw_accounts; --",
    "memory_limit=lots", "threads=0", "colour=blue"])
def test_store_url_options_are_checked_not_interpolated(tmp_path: Path, query: str) -> None:
    url = f"duckdb:///{tmp_path / 's.duckdb'}"
    connect(url).close()
    with pytest.raises(ConfigError):
        connect(f"{url}?{query}")
    with connect(url) as store:  # nothing was dropped
        assert "raw_accounts" in store.list_tables()


def test_spark_master_is_checked() -> None:
    with pytest.raises(ConfigError, match="Spark master"):
        connect("spark://local[2]'); import os; os.system('true")


@pytest.mark.parametrize("content", [b"account_id,name\na1,Acme\n", b"\x00" * 64])
def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        connect(f"duckdb:///{path}")
    assert info.value.code == "not_a_store" and "not a DuckDB store" in info.value.message
    assert path.read_bytes() == content  # untouched


def test_new_store_records_its_schema_version(backend_url: str) -> None:
    with connect(backend_url) as store:
        meta = {r["key"]: r["value"] for r in store.to_arrow(STORE_META).to_pylist()}
    assert meta["schema_version"] == str(SCHEMA_VERSION) and "created_at" in meta


def _make_version_1(url: str) -> None:
    """A store as revloop wrote it before schema versions: no store_meta, no builds; on
    PostgreSQL a plain (not unique) key index, and a key stored twice (the old concurrent
    import doubling); on Spark, _SUCCESS markers and no catalog."""
    with connect(url) as store:
        engine = store.engine
    if engine == "postgres":
        with psycopg.connect(url, autocommit=True) as con:
            for t in (STORE_META, BUILDS):
                con.execute(f"DROP TABLE {t}".encode())
            con.execute(b"DROP INDEX raw_accounts__key_unique")
            con.execute(b"CREATE INDEX raw_accounts__key ON raw_accounts (_key)")
            for i in (1, 2):
                con.execute(f"INSERT INTO raw_accounts (account_id, name, _key, _hash, "
                            f"_import_id) VALUES ('a1', 'A', 'a1', 'h', 'imp-{i}')".encode())
    elif engine == "duckdb":
        import duckdb

        with duckdb.connect(url[len("duckdb:///"):]) as con:
            for t in (STORE_META, BUILDS):
                con.execute(f"DROP TABLE {t}")


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_version_1_store_is_migrated(engine: str, tmp_path: Path,
                                       request: pytest.FixtureRequest) -> None:
    url = (request.getfixturevalue("pg_url") if engine == "postgres"
           else f"duckdb:///{tmp_path / 'v1.duckdb'}")
    _make_version_1(url)
    notes: list[str] = []
    with connect(url, on_notice=notes.append) as store:
        meta = {r["key"]: r["value"] for r in store.to_arrow(STORE_META).to_pylist()}
        accounts = store.count("raw_accounts")
    assert notes == [f"migrated the store from schema version 1 to {SCHEMA_VERSION}"]
    assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["migrated_from"] == "1"
    if engine == "postgres":
        assert accounts == 1  # the doubled key kept once
        with psycopg.connect(url) as con:
            unique = con.execute(b"SELECT indexdef FROM pg_indexes WHERE indexname = "
                                 b"'raw_accounts__key_unique'").fetchone()
        assert unique and "UNIQUE" in unique[0]
    with connect(url, on_notice=notes.append):  # migrating again does nothing
        pass
    assert len(notes) == 1


@pytest.mark.spark
def test_a_version_1_spark_warehouse_is_adopted(tmp_path: Path) -> None:
    url = f"spark://local?warehouse={tmp_path / 'wh'}"
    with connect(url) as store:
        store.write_arrow("raw_accounts", store.to_arrow("raw_accounts").append_column(
            "x", pa.array([], pa.int64())).drop_columns(["x"]))
    (tmp_path / "wh" / "_catalog.json").unlink()
    for t in (STORE_META, BUILDS):
        shutil.rmtree(tmp_path / "wh" / t)
    notes: list[str] = []
    with connect(url, on_notice=notes.append) as store:
        assert "raw_accounts" in store.list_tables()
    assert notes == [f"migrated the store from schema version 1 to {SCHEMA_VERSION}"]


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'new.duckdb'}"
    with connect(url) as store:
        store.write_arrow(STORE_META, pa.table({"key": ["schema_version"], "value": ["99"]}))
    with pytest.raises(StoreError) as info:
        connect(url)
    assert info.value.code == "store_too_new" and "schema version 99" in info.value.message


def test_a_damaged_store_is_reported_with_what_is_wrong(backend_url: str) -> None:
    with connect(backend_url) as store:
        engine = store.engine
        if engine == "spark":
            table = store.to_arrow("raw_accounts").drop_columns(["name"])
            store.write_arrow("raw_accounts", table.set_column(
                table.schema.get_field_index("employees"), "employees",
                pa.array([], pa.string())))
        else:
            store.replace_table("raw_accounts", store.table("raw_accounts").drop("name").mutate(
                employees=store.table("raw_accounts").employees.cast("string")))
    with pytest.raises(StoreError) as info:
        connect(backend_url)
    assert info.value.code == "store_damaged"
    assert "raw_accounts.name is missing" in info.value.message
    assert "raw_accounts.employees is" in info.value.message and "expected integer" in \
        info.value.message


def _make_version_2(url: str, transitions: Path) -> int:
    """A version-2 store holding ``transitions``: raw_stage_transitions without
    transition_id/reconstructed and keyed on four columns, no raw_currency_rates."""
    from dataclasses import replace

    from revloop import facade
    from revloop.schema import ENTITY_BY_NAME

    ent = ENTITY_BY_NAME["stage_transitions"]
    old = replace(ent, key=ent.key[:4], columns=tuple(
        c for c in ent.columns if c.name not in ("transition_id", "reconstructed")))
    with connect(url) as store:
        stored = facade.import_files(store, "canonical", [transitions]).total("stored")
        store.rebuild_raw(old)
        store.write_arrow(STORE_META, pa.table({"key": ["schema_version"], "value": ["2"]}))
        engine = store.engine
    if engine == "duckdb":
        import duckdb

        with duckdb.connect(url[len("duckdb:///"):]) as con:
            con.execute("DROP TABLE raw_currency_rates")
    elif engine == "postgres":
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(b"DROP TABLE raw_currency_rates")
    return stored


def test_a_version_2_store_is_migrated_and_reimports_change_nothing(
        backend_url: str, tmp_path: Path) -> None:
    from revloop import facade

    transitions = tmp_path / "stage_transitions.csv"
    transitions.write_text(
        "entity_type,entity_id,to_stage,occurred_at,amount\n"
        "opportunity,o1,discovery,2024-01-02 10:00:00,100\n"
        "opportunity,o1,proposal,2024-01-09 10:00:00,120\n"
        "lead,l1,mql,2024-01-01 08:00:00,\n", encoding="utf-8")
    assert _make_version_2(backend_url, transitions) == 3
    notes: list[str] = []
    with connect(backend_url, on_notice=notes.append) as store:
        assert notes == ["migrated the store from schema version 2 to 3"]
        raw = store.table("raw_stage_transitions")
        assert {"transition_id", "reconstructed"} <= set(raw.columns)
        assert "raw_currency_rates" in store.list_tables()
        again = facade.import_files(store, "canonical", [transitions])
        assert (again.total("stored"), again.total("duplicates")) == (0, 3)
        assert store.count("raw_stage_transitions") == 3
