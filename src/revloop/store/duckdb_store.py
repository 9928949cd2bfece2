"""The embedded default: one DuckDB file (or ``:memory:``)."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from revloop.errors import StoreError
from revloop.schema import ColumnType, Entity
from revloop.store import merge_sql, spool
from revloop.store.base import STAGED_PREFIX, Store, conform
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
#: A DuckDB database file carries these bytes at offset 8.
_MAGIC = b"DUCK"
#: How long an open waits for another process to release the file (seconds).
BUSY_WAIT_SECONDS = float(os.environ.get("REVLOOP_BUSY_TIMEOUT", "10"))


def _check_database_file(path: Path) -> None:
    """Refuse a path that exists and is not a DuckDB database (a CSV named by mistake would
    otherwise open as an empty in-memory store and silently keep nothing)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a DuckDB store file", code="not_a_store")
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        head = fh.read(12)
    if head[8:12] != _MAGIC:
        raise StoreError(f"{path} is not a DuckDB store (is it a data file? import it with "
                         "`revloop import`, and name the store with --db duckdb:///store.duckdb)",
                         code="not_a_store")


def _connect(path: str) -> Any:
    """An Ibis DuckDB connection; while another process holds the file, wait a little and
    then say who holds it."""
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while True:
        try:
            return ibis.duckdb.connect(path)
        except Exception as exc:  # duckdb raises IOException for locked/corrupt files
            text = str(exc)
            if "lock" in text.lower() and time.monotonic() < deadline:
                time.sleep(0.25)
                continue
            if "lock" in text.lower():
                holder = re.search(r"\(PID (\d+)\)", text)
                who = f"process {holder.group(1)}" if holder else "another process"
                raise StoreError(
                    f"the store {path} is in use by {who} (DuckDB admits one writing process; "
                    f"waited {BUSY_WAIT_SECONDS:g} s): wait for it to finish, or use a "
                    "PostgreSQL store for several users", code="store_busy") from exc
            raise StoreError(f"cannot open DuckDB store {path!r}: {text}",
                             code="store_unreadable") from exc


class DuckDBTransaction(SqlTransaction):
    """Entity stages are spooled to a local Parquet file that the merge reads through a view.

    Arrow batches appended inside a transaction would stay in untracked memory until commit,
    while the Parquet reader keeps memory within ``memory_limit`` whatever the file size. The
    stage is never copied into a table: a temporary table of millions of rows spills, and
    reading it back took twice as long as reading the spool again (SF1 touchpoints: 44 s
    against 15 s). Key and hash are computed by the view, the same expressions as before,
    so stored hashes compare equal across versions."""

    dialect = merge_sql.DUCKDB
    type_names = DUCKDB_TYPES

    def __init__(self, con: Any, spool_dir: Path) -> None:
        super().__init__()
        self.con = con
        self.spool_dir = spool_dir
        self.spools: dict[str, tuple[pq.ParquetWriter, Path]] = {}
        self.spooled: dict[str, Path] = {}  # stages now read through a view of their spool

    def append(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows == 0:
            return
        if name not in self._entities:
            self._append_arrow(name, batch)
            return
        try:
            if name not in self.spools:
                path = self.spool_dir / f"{name}.parquet"
                # plain pages: the spool lives seconds; statistics and dictionaries cost
                # writing time and the merge reads every row anyway
                self.spools[name] = (pq.ParquetWriter(
                    path, batch.schema, compression="none", use_dictionary=False,
                    write_statistics=False), path)
            writer, _ = self.spools[name]
            table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
            writer.write_table(table)
        except OSError as exc:
            if spool.is_disk_full(exc):
                raise spool.disk_full(exc, self.spool_dir) from None
            raise

    def close_spools(self) -> None:
        """Close the spool writers (an error while closing must not hide the one that ended
        the import)."""
        for writer, _ in self.spools.values():
            with suppress(Exception):
                writer.close()
        self.spools.clear()

    def _first(self, stage: str) -> str:
        spool = self.spools.pop(stage, None)
        if spool is not None:
            writer, path = spool
            writer.close()
            self.spooled[stage] = path
            self.execute(f"DROP TABLE IF EXISTS {stage}")  # the empty table create_stage made
            self._view(stage)
        return super()._first(stage)

    def _view(self, stage: str, later: str | None = None) -> None:
        """``stage`` as a view of its spool with ``_key`` and ``_hash`` (without the rows
        whose ``_seq`` is in ``later`` when given)."""
        entity = self._entities[stage]
        cast = ", ".join(f'CAST("{n}" AS {DUCKDB_TYPES[t]}) AS "{n}"'
                         for n, t in self._stage_columns[stage])
        source = f"SELECT {cast} FROM read_parquet('{self.spooled[stage]}')"
        if later is not None:
            source += f" WHERE _seq NOT IN (SELECT _seq FROM {later})"
        d = self.dialect
        self.execute(
            f"CREATE OR REPLACE TEMP VIEW {stage} AS SELECT *, {merge_sql.key_expr(entity, d)} "
            f"AS _key, {merge_sql.hash_expr(entity, d)} AS _hash FROM ({source}) s")

    def _drop_later_repeats(self, stage: str, first: str) -> None:
        if stage not in self.spooled:
            super()._drop_later_repeats(stage, first)
            return
        later = f"{stage}__later"
        self.execute(f"CREATE OR REPLACE TEMP TABLE {later} AS SELECT k._seq FROM {stage} k "
                     f"JOIN {first} f ON k._key = f._key WHERE k._seq <> f.first_seq")
        self._view(stage, later)

    def _drop_stage(self, stage: str) -> None:
        path = self.spooled.pop(stage, None)
        if path is None:
            super()._drop_stage(stage)
            return
        self.execute(f"DROP VIEW {stage}")
        self.execute(f"DROP TABLE IF EXISTS {stage}__later")
        path.unlink(missing_ok=True)

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def execute_count(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

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
            _check_database_file(Path(path))
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._ibis = _connect(path)
        self.con = self._ibis.con
        # Every read orders explicitly; not preserving insertion order lets big inserts stream.
        self.con.execute("SET preserve_insertion_order = false")
        # DuckDB's own default (80 % of RAM) lets one import take the machine; larger work
        # spills to disk instead. Override with ?memory_limit= in the URL.
        options = {"memory_limit": DEFAULT_MEMORY_LIMIT, **(settings or {})}
        for name, value in options.items():  # names come from a closed list (store.connect)
            self.con.execute(f"SET {name} = ?", [int(value) if name == "threads" else value])

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
        folder = spool.new_spool()
        self.con.execute("BEGIN TRANSACTION")
        tx = DuckDBTransaction(self.con, folder)
        try:
            yield tx
        except BaseException:
            tx.close_spools()
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            tx.close_spools()
            shutil.rmtree(folder, ignore_errors=True)

    def rebuild_raw(self, entity: Entity) -> None:
        raw = entity.raw_table
        sql = merge_sql.rekeyed_select(entity, raw, self.table(raw).columns, DUCKDB_TYPES,
                                       merge_sql.DUCKDB)
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {raw}__rebuilt AS {sql}")
            self.con.execute(f"DROP TABLE {raw}")
            self.con.execute(f"ALTER TABLE {raw}__rebuilt RENAME TO {raw}")
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

    def _publish(self, names: Sequence[str]) -> None:
        self.con.execute("BEGIN TRANSACTION")
        try:
            for name in names:
                self.con.execute(f"DROP TABLE IF EXISTS {name}")
                self.con.execute(f"ALTER TABLE {STAGED_PREFIX}{name} RENAME TO {name}")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def _discard_staged(self) -> None:
        for name in self.list_tables():
            if name.startswith(STAGED_PREFIX):
                self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        self._ibis.disconnect()
