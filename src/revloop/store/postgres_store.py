"""The server mode: PostgreSQL. Reads through Ibis, imports through psycopg COPY."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlparse

import ibis
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from revloop.errors import StoreError
from revloop.schema import ColumnType
from revloop.store import merge_sql
from revloop.store.base import Store, conform, logical_columns
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
        buf = io.BytesIO()
        pacsv.write_csv(batch, buf, write_options=_CSV_OPTIONS)
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
                self.con.execute(
                    f"CREATE INDEX IF NOT EXISTS {name}__key ON {name} (_key)".encode())

    @contextmanager
    def transaction(self) -> Iterator[PostgresTransaction]:
        with self.con.transaction():
            yield PostgresTransaction(self.con)

    def replace_table(self, name: str, expr: Any) -> None:
        sql = str(self._ibis.compile(expr))
        with self.con.transaction():
            self.con.execute(f"DROP TABLE IF EXISTS {name}".encode())
            self.con.execute(f"CREATE TABLE {name} AS {sql}".encode())

    def write_arrow(self, name: str, table: pa.Table) -> None:
        table = conform(table)
        cols = ", ".join(f'"{n}" {POSTGRES_TYPES[t]}' for n, t in logical_columns(table.schema))
        names = ", ".join(f'"{c}"' for c in table.schema.names)
        with self.con.transaction():
            self.con.execute(f"DROP TABLE IF EXISTS {name}".encode())
            self.con.execute(f"CREATE TABLE {name} ({cols})".encode())
            if table.num_rows:
                buf = io.BytesIO()
                pacsv.write_csv(table, buf, write_options=_CSV_OPTIONS)
                with self.con.cursor().copy(
                    f"COPY {name} ({names}) FROM STDIN WITH (FORMAT csv)".encode()
                ) as copy:
                    copy.write(buf.getbuffer())

    def close(self) -> None:
        self.con.close()
        self._ibis.disconnect()
