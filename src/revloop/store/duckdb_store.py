"""The embedded default: one DuckDB file (or ``:memory:``)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from revloop.errors import StoreError
from revloop.schema import ColumnType
from revloop.store import merge_sql
from revloop.store.base import Store, conform
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
DEFAULT_MEMORY_LIMIT = "2GB"


class DuckDBTransaction(SqlTransaction):
    """Entity stages are spooled to a local Parquet file and loaded with DuckDB's own reader:
    Arrow batches appended inside a transaction stay in untracked memory until commit, while
    the Parquet reader keeps memory within ``memory_limit`` whatever the file size."""

    dialect = merge_sql.DUCKDB
    type_names = DUCKDB_TYPES

    def __init__(self, con: Any, spool_dir: Path) -> None:
        super().__init__()
        self.con = con
        self.spool_dir = spool_dir
        self.spools: dict[str, tuple[pq.ParquetWriter, Path]] = {}

    def append(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows == 0:
            return
        if name not in self._entities:
            self._append_arrow(name, batch)
            return
        if name not in self.spools:
            path = self.spool_dir / f"{name}.parquet"
            # uncompressed: the spool lives seconds and is read once
            self.spools[name] = (pq.ParquetWriter(path, batch.schema, compression="none"), path)
        writer, _ = self.spools[name]
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        writer.write_table(table)

    def _first(self, stage: str) -> str:
        spool = self.spools.pop(stage, None)
        if spool is not None:
            writer, path = spool
            writer.close()
            names = writer.schema.names
            self.execute(self._insert_sql(stage, f"read_parquet('{path}')", names))
            path.unlink()
        return super()._first(stage)

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.con.execute(sql).fetchall())

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self.con.execute(sql).to_arrow_table()

    def _append_arrow(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        view = f"__rl_batch_{next(_registration)}"
        self.con.register(view, batch)
        try:
            self.con.execute(self._insert_sql(name, view, batch.schema.names))
        finally:
            self.con.unregister(view)


class DuckDBStore(Store):
    """DuckDB through Ibis; imports use the same connection inside an explicit transaction."""

    engine = "duckdb"

    def __init__(self, path: str, settings: dict[str, str] | None = None) -> None:
        self.url = f"duckdb:///{path}"
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._ibis = ibis.duckdb.connect(path)
        except Exception as exc:  # duckdb raises IOException for locked/corrupt files
            raise StoreError(f"cannot open DuckDB store {path!r}: {exc}") from exc
        self.con = self._ibis.con
        # Every read orders explicitly; not preserving insertion order lets big inserts stream.
        self.con.execute("SET preserve_insertion_order = false")
        # DuckDB's own default (80 % of RAM) lets one import take the machine; larger work
        # spills to disk instead. Override with ?memory_limit= in the URL.
        for name, value in {"memory_limit": DEFAULT_MEMORY_LIMIT, **(settings or {})}.items():
            self.con.execute(f"SET {name} = '{value}'")

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
        spool = Path(tempfile.mkdtemp(prefix="revloop-spool-"))
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield DuckDBTransaction(self.con, spool)
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            shutil.rmtree(spool, ignore_errors=True)

    def replace_table(self, name: str, expr: Any) -> None:
        sql = self._ibis.compile(expr)
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def write_arrow(self, name: str, table: pa.Table) -> None:
        view = f"__rl_write_{next(_registration)}"
        self.con.register(view, conform(table))
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {view}")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        finally:
            self.con.unregister(view)
        self.con.execute("COMMIT")

    def close(self) -> None:
        self._ibis.disconnect()
