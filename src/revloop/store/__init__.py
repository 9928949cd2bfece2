"""``connect(url)``: the only place that knows DuckDB, PostgreSQL and Spark apart.

* ``duckdb:///path/to/file.duckdb`` (default ``duckdb:///revloop.duckdb``), ``duckdb://:memory:``,
  options ``?memory_limit=2GB&threads=2`` (larger-than-memory work spills to disk)
* ``postgresql://user:password@host:5432/database``
* ``spark://local`` (``local[2]``), ``spark://local[4]?warehouse=/data/wh``
"""

from __future__ import annotations

from urllib.parse import parse_qs

from revloop.errors import ConfigError
from revloop.store.base import MergeCounts, Store, Transaction

__all__ = ["MergeCounts", "Store", "Transaction", "connect"]


def connect(url: str, *, spark_warehouse: str = "./spark-warehouse") -> Store:
    """Open the store at ``url`` and make sure its tables exist."""
    store = _open(url, spark_warehouse)
    store.ensure_schema()
    return store


def _open(url: str, spark_warehouse: str) -> Store:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "duckdb":
        from revloop.store.duckdb_store import DuckDBStore

        rest = url[len("duckdb://"):]
        path, _, query = rest.partition("?")
        if path.startswith("/") and path != "/":
            path = path[1:]  # duckdb:///rel/path → rel/path; duckdb:////abs → /abs
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        unknown = set(params) - {"memory_limit", "threads"}
        if unknown:
            raise ConfigError(f"unknown DuckDB URL option(s) {', '.join(sorted(unknown))}; "
                              "use memory_limit and threads")
        return DuckDBStore(path or "revloop.duckdb", settings=params)
    if scheme in ("postgresql", "postgres"):
        from revloop.store.postgres_store import PostgresStore

        return PostgresStore(url)
    if scheme == "spark":
        from revloop.store.spark_store import SparkStore

        # not urlparse: "local[2]" is not a host name (it reads the brackets as IPv6)
        master, _, query = url[len("spark://"):].partition("?")
        master = master or "local"
        if master == "local":
            master = "local[2]"
        warehouse = parse_qs(query).get("warehouse", [spark_warehouse])[0]
        return SparkStore(warehouse, master)
    raise ConfigError(
        f"unsupported store URL {url!r}: use duckdb:///path, postgresql://user@host/db "
        "or spark://local"
    )
