"""The server mode: PostgreSQL. Reads through Ibis, imports through psycopg COPY."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import unquote, urlparse

import ibis
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from revloop.errors import StoreError
from revloop.schema import ColumnType, Entity
from revloop.store import merge_sql
from revloop.store.base import STAGED_PREFIX, Store, conform, logical_columns
from revloop.store.sql_transaction import SqlTransaction

POSTGRES_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "TEXT",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.NUMBER: "DOUBLE PRECISION",
    ColumnType.AMOUNT: "DOUBLE PRECISION",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.JSON: "TEXT",
}

_CSV_OPTIONS = pacsv.WriteOptions(include_header=False)


def _csv(table: pa.Table | pa.RecordBatch) -> io.BytesIO:
    """Rows as headerless CSV for COPY. One chunk first: PyArrow's CSV writer emits a stale
    buffer (NULs or old bytes) when a table's first record batch is empty (apache/arrow#36889),
    which is what concatenating onto an empty table gives."""
    buf = io.BytesIO()
    rows = table.combine_chunks() if isinstance(table, pa.Table) else table
    pacsv.write_csv(rows, buf, write_options=_CSV_OPTIONS)
    return buf
#: The first key of revloop's advisory locks ("rvlp"); the second is hashtext(lock name).
LOCK_NAMESPACE = 0x72766C70
_HOLDER_SQL = (
    "SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.classid = %s AND l.objid::bigint = (hashtext(%s)::bigint & 4294967295) "
    "AND l.pid <> pg_backend_pid() ORDER BY a.backend_start LIMIT 1")


def connection_params(url: str) -> dict[str, Any]:
    """psycopg keyword arguments from a ``postgresql://user:pw@host:port/db`` URL."""
    parts = urlparse(url)
    params: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username) if parts.username else "postgres",
        "dbname": parts.path.lstrip("/") or "postgres",
    }
    if parts.password:
        params["password"] = unquote(parts.password)
    return params


class PostgresTransaction(SqlTransaction):
    dialect = merge_sql.POSTGRES
    type_names = POSTGRES_TYPES

    def __init__(self, con: psycopg.Connection[Any]) -> None:
        super().__init__()
        self.con = con

    def execute(self, sql: str) -> None:
        self.con.execute(sql.encode())

    def execute_count(self, sql: str) -> int:
        return int(self.con.execute(sql.encode()).rowcount)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.con.execute(sql.encode()).fetchall())

    def fetch_arrow(self, sql: str) -> pa.Table:
        cur = self.con.execute(sql.encode())
        names = [d.name for d in cur.description or []]
        rows = cur.fetchall()
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})

    def append(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows == 0:
            return
        buf = _csv(batch)
        cols = ", ".join(f'"{c}"' for c in batch.schema.names)
        target = name
        if name in self._entities:  # COPY into a twin, then add key and hash in SQL
            target = f"{name}__copy"
            self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} AS SELECT {cols} FROM "
                         f"{name} WHERE false")
        with self.con.cursor().copy(
            f"COPY {target} ({cols}) FROM STDIN WITH (FORMAT csv)".encode()
        ) as copy:
            copy.write(buf.getbuffer())
        if target != name:
            self.execute(self._insert_sql(name, target, batch.schema.names))
            self.execute(f"TRUNCATE {target}")


class PostgresStore(Store):
    """PostgreSQL for shared, multi-user deployments."""

    engine = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.params = connection_params(url)
        try:
            self.con: psycopg.Connection[Any] = psycopg.connect(**self.params, autocommit=True)
            self._ibis = ibis.postgres.connect(
                host=self.params["host"], port=self.params["port"], user=self.params["user"],
                password=self.params.get("password"), database=self.params["dbname"],
            )
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {url}: {exc}".strip()) from exc

    @property
    def ibis(self) -> Any:
        return self._ibis

    def list_tables(self) -> list[str]:
        with self.con.transaction():
            rows = self.con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            ).fetchall()
        return sorted(r[0] for r in rows)

    def _create_table(self, name: str, columns: Sequence[tuple[str, ColumnType]]) -> None:
        cols = ", ".join(f'"{n}" {POSTGRES_TYPES[t]}' for n, t in columns)
        with self.con.transaction():
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})".encode())
            if any(n == "_key" for n, _ in columns):
                # one stored version per natural key, whatever runs at the same time
                self.con.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {name}__key_unique ON "
                                 f"{name} (_key)".encode())

    def rebuild_raw(self, entity: Entity) -> None:
        raw = entity.raw_table
        sql = merge_sql.rekeyed_select(entity, raw, self.table(raw).columns, POSTGRES_TYPES,
                                       merge_sql.POSTGRES)
        with self.con.transaction():
            self._xact_lock(raw)
            self.con.execute(f"DROP TABLE IF EXISTS {raw}__rebuilt".encode())
            self.con.execute(f"CREATE TABLE {raw}__rebuilt AS {sql}".encode())
            self.con.execute(f"DROP TABLE {raw}".encode())
            self.con.execute(f"ALTER TABLE {raw}__rebuilt RENAME TO {raw}".encode())
            self.con.execute(f"CREATE UNIQUE INDEX {raw}__key_unique ON {raw} (_key)".encode())

    def migrate(self, from_version: int) -> None:
        if from_version == 1:  # natural keys unique (concurrent imports could double rows)
            from revloop.schema import ENTITIES

            for ent in ENTITIES:
                self._dedupe_keys(ent.raw_table)

    def _dedupe_keys(self, raw: str) -> None:
        """Keep one row per ``_key`` (the latest import's) and make the key unique."""
        with self.con.transaction():
            self._xact_lock(raw)
            self.con.execute(
                f"DELETE FROM {raw} t USING (SELECT ctid, row_number() OVER (PARTITION BY "
                f"_key ORDER BY _import_id DESC, ctid DESC) AS n FROM {raw}) d "
                f"WHERE t.ctid = d.ctid AND d.n > 1".encode())
            self.con.execute(f"DROP INDEX IF EXISTS {raw}__key".encode())
            self.con.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {raw}__key_unique ON {raw} "
                             "(_key)".encode())

    # -- locks ------------------------------------------------------------------------------
    @contextmanager
    def lock(self, names: Sequence[str], *, shared: Sequence[str] = (),
             purpose: str = "") -> Iterator[None]:
        """Session advisory locks, always taken in name order (no deadlock between two
        commands); a wait is announced with the process that holds the lock."""
        self.con.execute("SELECT set_config('application_name', %s, false)",
                         (f"revloop {purpose or 'command'} (pid {os.getpid()})"[:63],))
        wanted = sorted({*((n, False) for n in names),
                         *((n, True) for n in shared if n not in names)})
        with ExitStack() as held:
            for name, is_shared in wanted:
                self._acquire(name, is_shared)
                held.callback(self._release, name, is_shared)
            yield

    def _acquire(self, name: str, shared: bool) -> None:
        suffix = "_shared" if shared else ""
        row = self.con.execute(f"SELECT pg_try_advisory_lock{suffix}(%s, hashtext(%s))",
                               (LOCK_NAMESPACE, name)).fetchone()
        if row and row[0]:
            return
        holder = self.con.execute(_HOLDER_SQL, (LOCK_NAMESPACE, name)).fetchone()
        who = (f"{holder[1] or 'another session'} (PostgreSQL pid {holder[0]}, connected "
               f"{holder[2]:%Y-%m-%d %H:%M:%S})" if holder else "another session")
        self.on_notice(f"waiting for {who} to finish with {name}")
        self.con.execute(f"SELECT pg_advisory_lock{suffix}(%s, hashtext(%s))",
                         (LOCK_NAMESPACE, name))

    def _release(self, name: str, shared: bool) -> None:
        if not self.con.closed:
            suffix = "_shared" if shared else ""
            self.con.execute(f"SELECT pg_advisory_unlock{suffix}(%s, hashtext(%s))",
                             (LOCK_NAMESPACE, name))

    def _xact_lock(self, name: str) -> None:
        """A lock on ``name`` until the current transaction ends (two commands replacing one
        table one after the other, not at once)."""
        self.con.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                         (LOCK_NAMESPACE, "table:" + name))

    @contextmanager
    def transaction(self) -> Iterator[PostgresTransaction]:
        with self.con.transaction():
            yield PostgresTransaction(self.con)

    def replace_table(self, name: str, expr: Any) -> None:
        sql = str(self._ibis.compile(expr))
        # built beside the old table, then swapped: the expression may read the old one
        with self.con.transaction():
            self._xact_lock(name)
            self.con.execute(f"DROP TABLE IF EXISTS {name}__new".encode())
            self.con.execute(f"CREATE TABLE {name}__new AS {sql}".encode())
            self.con.execute(f"DROP TABLE IF EXISTS {name}".encode())
            self.con.execute(f"ALTER TABLE {name}__new RENAME TO {name}".encode())

    def write_arrow(self, name: str, table: pa.Table) -> None:
        table = conform(table)
        cols = ", ".join(f'"{n}" {POSTGRES_TYPES[t]}' for n, t in logical_columns(table.schema))
        names = ", ".join(f'"{c}"' for c in table.schema.names)
        with self.con.transaction():
            self._xact_lock(name)
            self.con.execute(f"DROP TABLE IF EXISTS {name}".encode())
            self.con.execute(f"CREATE TABLE {name} ({cols})".encode())
            if table.num_rows:
                buf = _csv(table)
                with self.con.cursor().copy(
                    f"COPY {name} ({names}) FROM STDIN WITH (FORMAT csv)".encode()
                ) as copy:
                    copy.write(buf.getbuffer())

    def _publish(self, names: Sequence[str]) -> None:
        with self.con.transaction():
            for name in names:
                self._xact_lock(name)
                self.con.execute(f"DROP TABLE IF EXISTS {name}".encode())
                self.con.execute(f"ALTER TABLE {STAGED_PREFIX}{name} RENAME TO {name}".encode())

    def _discard_staged(self) -> None:
        for name in self.list_tables():
            if name.startswith(STAGED_PREFIX):
                with self.con.transaction():
                    self.con.execute(f"DROP TABLE IF EXISTS {name}".encode())

    def close(self) -> None:
        self.con.close()
        self._ibis.disconnect()
