"""The embedded default: one DuckDB file (or ``:memory:``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from revloop.errors import StoreError
from revloop.model.schema import ColumnType
from revloop.store import merge_sql
from revloop.store.base import Store
from revloop.store.sql_transaction import SqlTransaction

DUCKDB_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.NUMBER: "DOUBLE",
    ColumnType.AMOUNT: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.JSON: "VARCHAR",
}

_registration = itertools.count()


class DuckDBTransaction(SqlTransaction):
    dialect = merge_sql.DUCKDB
    type_names = DUCKDB_TYPES

    def __init__(self, con: Any) -> None:
        super().__init__()
        self.con = con

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.con.execute(sql).fetchall())

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self.con.execute(sql).to_arrow_table()

    def append(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows == 0:
            return
        view = f"__rl_batch_{next(_registration)}"
        self.con.register(view, batch)
        try:
            cols = ", ".join(f'"{c}"' for c in batch.schema.names)
            self.con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {view}")
        finally:
            self.con.unregister(view)


class DuckDBStore(Store):
    """DuckDB through Ibis; imports use the same connection inside an explicit transaction."""

    engine = "duckdb"

    def __init__(self, path: str) -> None:
        self.url = f"duckdb:///{path}"
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._ibis = ibis.duckdb.connect(path)
        except Exception as exc:  # duckdb raises IOException for locked/corrupt files
            raise StoreError(f"cannot open DuckDB store {path!r}: {exc}") from exc
        self.con = self._ibis.con

    @property
    def ibis(self) -> Any:
        return self._ibis

    def list_tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_catalog = current_database()"
        ).fetchall()
        return sorted(r[0] for r in rows)

    def _create_table(self, name: str, columns: Sequence[tuple[str, ColumnType]]) -> None:
        cols = ", ".join(f'"{n}" {DUCKDB_TYPES[t]}' for n, t in columns)
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")

    @contextmanager
    def transaction(self) -> Iterator[DuckDBTransaction]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield DuckDBTransaction(self.con)
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def replace_table(self, name: str, expr: Any) -> None:
        sql = self._ibis.compile(expr)
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        self._ibis.disconnect()
