"""``connect(url)``: the only place that knows DuckDB, PostgreSQL and Spark apart.

* ``duckdb:///path/to/file.duckdb`` (default ``duckdb:///revloop.duckdb``), ``duckdb://:memory:``,
  options ``?memory_limit=2GB&threads=2`` (larger-than-memory work spills to disk)
* ``postgresql://user:password@host:5432/database``
* ``spark://local`` (``local[2]``), ``spark://local[4]?warehouse=/data/wh``
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs

from revloop.errors import ConfigError
from revloop.store.base import MergeCounts, Store, Transaction

__all__ = ["MergeCounts", "Store", "Transaction", "connect"]


def connect(url: str, *, spark_warehouse: str = "./spark-warehouse",
            on_notice: Callable[[str], None] | None = None) -> Store:
    """Open the store at ``url``: create a new one, migrate an older one, refuse a damaged
    one (see :mod:`revloop.store.versions`). ``on_notice`` hears what the store says while it
    works (a wait for another process, a migration)."""
    store = _open(url, spark_warehouse)
    if on_notice is not None:
        store.on_notice = on_notice
    try:
        store.ensure_schema()
    except BaseException:
        store.close()
        raise
    return store


#: Options a DuckDB URL may carry, with the form each value must have. Values are checked
#: here and passed to DuckDB as parameters, never pasted into SQL.
DUCKDB_OPTIONS: dict[str, re.Pattern[str]] = {
    "memory_limit": re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)?$",
                               re.IGNORECASE),
    "threads": re.compile(r"^[1-9]\d{0,3}$"),
}
_SPARK_MASTER = re.compile(r"^(local(\[(\d{1,4}|\*)\])?|(spark|yarn|k8s)://[\w.\-:/\[\]]+)$")


def duckdb_options(query: str) -> dict[str, str]:
    """The options of a DuckDB URL's query string, checked."""
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = set(params) - set(DUCKDB_OPTIONS)
    if unknown:
        raise ConfigError(f"unknown DuckDB URL option(s) {', '.join(sorted(unknown))}; "
                          "use memory_limit and threads")
    for name, value in params.items():
        if not DUCKDB_OPTIONS[name].match(value):
            example = "2GB" if name == "memory_limit" else "4"
            raise ConfigError(f"DuckDB URL option {name}={value!r} is not valid; expected "
                              f"a value like {example}")
    return params


def _open(url: str, spark_warehouse: str) -> Store:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "duckdb":
        from revloop.store.duckdb_store import DuckDBStore

        rest = url[len("duckdb://"):]
        path, _, query = rest.partition("?")
        if path.startswith("/") and path != "/":
            path = path[1:]  # duckdb:///rel/path → rel/path; duckdb:////abs → /abs
        return DuckDBStore(path or "revloop.duckdb", settings=duckdb_options(query))
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
        if not _SPARK_MASTER.match(master):
            raise ConfigError(f"Spark master {master!r} is not valid; use spark://local, "
                              "spark://local[4] or a cluster URL")
        warehouse = parse_qs(query).get("warehouse", [spark_warehouse])[0]
        return SparkStore(warehouse, master)
    raise ConfigError(
        f"unsupported store URL {url!r}: use duckdb:///path, postgresql://user@host/db "
        "or spark://local"
    )
