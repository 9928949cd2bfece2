"""The distributed path: Apache Spark (``local[N]`` here, a cluster in production).

Tables are Parquet folders under the warehouse, one numbered version per write
(``<warehouse>/<table>/v000007``); a version counts once its ``_SUCCESS`` marker exists, so a
write is atomic per table and readers never see half a table.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from revloop.schema import ColumnType, Entity
from revloop.store import merge_sql, spool
from revloop.store.base import (
    ARROW_TYPES,
    STAGED_PREFIX,
    MergeCounts,
    Store,
    Transaction,
    conform,
)

_SESSION: Any = None


#: Spark SQL type names (for casts in migrations).
SPARK_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "STRING", ColumnType.INTEGER: "BIGINT", ColumnType.NUMBER: "DOUBLE",
    ColumnType.AMOUNT: "DOUBLE", ColumnType.BOOLEAN: "BOOLEAN", ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP", ColumnType.JSON: "STRING",
}


def spark_session(master: str = "local[2]") -> Any:
    """The process-wide SparkSession (created once; Spark allows one per JVM)."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    from pyspark.sql import SparkSession

    _SESSION = (
        SparkSession.builder.master(master)
        .appName("revloop")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="revloop-spark-wh-"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


class _Versions:
    """Numbered versions of the Parquet folders of each table, and one catalog that says which
    version of every table is in force.

    A table version is written in full before the catalog names it; the catalog is replaced
    in one ``os.replace``, so publishing several tables at once (an import's raw tables, a
    build's marts) is atomic: a reader sees every old version or every new one. Writers hold
    an exclusive lock on ``.lock`` in the warehouse while they read and replace the catalog.
    The previous version of a table is kept (a reader in another process may still be on it);
    older ones are removed.
    """

    CATALOG = "_catalog.json"

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.file_lock = _FileLock(root / ".lock")
        if not (root / self.CATALOG).exists():
            with self.file_lock:
                self._adopt_markers()

    def _read(self) -> dict[str, str]:
        path = self.root / self.CATALOG
        if not path.exists():
            return {}
        tables: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["tables"]
        return tables

    def _write(self, tables: dict[str, str]) -> None:
        tmp = self.root / f".{self.CATALOG}.{os.getpid()}"
        tmp.write_text(json.dumps({"tables": tables}, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.root / self.CATALOG)

    def _adopt_markers(self) -> None:
        """A warehouse from before the catalog (schema version 1): each table's newest
        version with a ``_SUCCESS`` marker is the one in force."""
        if (self.root / self.CATALOG).exists():
            return
        tables = {}
        for base in sorted(p for p in self.root.iterdir() if p.is_dir()):
            done = sorted(v for v in base.iterdir() if (v / "_SUCCESS").exists())
            if done:
                tables[base.name] = done[-1].name
        if tables:
            self._write(tables)

    def current(self, name: str) -> Path | None:
        version = self._read().get(name)
        return self.root / name / version if version else None

    def tables(self) -> list[str]:
        return sorted(self._read())

    def next_path(self, name: str) -> Path:
        base = self.root / name
        base.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[1:]) for p in base.iterdir() if p.name.startswith("v")]
        return base / f"v{(max(numbers) + 1 if numbers else 1):06d}"

    def publish(self, paths: Sequence[Path]) -> None:
        """Put every version of ``paths`` in force at once."""
        with self.file_lock:
            tables = self._read()
            previous = {p.parent.name: tables.get(p.parent.name) for p in paths}
            for path in paths:
                (path / "_SUCCESS").touch()
                tables[path.parent.name] = path.name
            self._write(tables)
        for path in paths:
            keep = {path.name, previous[path.parent.name]}
            for old in path.parent.iterdir():
                if old.name.startswith("v") and old.name not in keep:
                    shutil.rmtree(old, ignore_errors=True)


class _FileLock:
    """An exclusive lock on a file, re-entrant within the process (flock locks are per open
    file, so a nested acquisition would otherwise wait for itself)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.depth = 0
        self.handle: Any = None

    def __enter__(self) -> None:
        import fcntl

        if self.depth == 0:
            self.handle = open(self.path, "a")
            fcntl.flock(self.handle, fcntl.LOCK_EX)
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        import fcntl

        self.depth -= 1
        if self.depth == 0:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


_views = itertools.count()


class SparkTransaction(Transaction):
    """Stages go to local Parquet files; merges prepare new table versions; commit publishes."""

    def __init__(self, store: SparkStore) -> None:
        self.store = store
        self.tmp = spool.new_spool("spark")
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.schemas: dict[str, pa.Schema] = {}
        self.pending: list[tuple[str, Path]] = []

    def create_stage(
        self, name: str, columns: Sequence[tuple[str, ColumnType]], entity: Entity | None = None
    ) -> None:
        self.schemas[name] = pa.schema([pa.field(n, ARROW_TYPES[t]) for n, t in columns])

    def append(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows == 0:
            return
        if name not in self.schemas:  # a store table: appended as one more file at commit
            schema = self.store.arrow_schema(name)
            self.schemas[name] = schema
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        table = table.select(self.schemas[name].names).cast(self.schemas[name])
        if name not in self.writers:
            path = self.tmp / f"{name}.parquet"
            self.writers[name] = pq.ParquetWriter(path, self.schemas[name])
        self.writers[name].write_table(table)

    def append_new(
        self, name: str, table: pa.Table, key: tuple[str, ...],
        columns: Sequence[tuple[str, ColumnType]],
    ) -> int:
        if table.num_rows == 0:
            return 0
        current = self.store.to_arrow(name).select(list(key))
        seen = {tuple(r.values()) for r in current.to_pylist()}
        fresh = [tuple(r.values()) not in seen for r in table.select(list(key)).to_pylist()]
        new = table.filter(pa.array(fresh, pa.bool_()))
        self.append(name, new)
        return int(new.num_rows)

    def _view(self, name: str) -> str:
        writer = self.writers.pop(name, None)
        if writer:
            writer.close()
        path = self.tmp / f"{name}.parquet"
        session = self.store.session
        view = f"{name}__v{next(_views)}"
        if path.exists():
            session.read.parquet(str(path)).createOrReplaceTempView(view)
        else:
            session.createDataFrame([], self.store.spark_schema(self.schemas[name])) \
                .createOrReplaceTempView(view)
        return view

    def _keyed(self, entity: Entity, stage: str) -> tuple[str, str]:
        session = self.store.session
        view = self._view(stage)
        keyed, first = f"{view}__k", f"{view}__f"
        session.sql(merge_sql.keyed_select(entity, view, merge_sql.SPARK)) \
            .cache().createOrReplaceTempView(keyed)
        session.sql(merge_sql.first_seen_select(keyed)).cache().createOrReplaceTempView(first)
        return keyed, first

    def conflicts(self, entity: Entity, stage: str) -> pa.Table:
        keyed, first = self._keyed(entity, stage)
        df = self.store.session.sql(merge_sql.conflicts_select(keyed, first))
        return pa.Table.from_pandas(df.toPandas(), preserve_index=False)

    def merge(self, entity: Entity, stage: str, import_id: str) -> MergeCounts:
        session = self.store.session
        keyed, first = self._keyed(entity, stage)
        self.store.table(entity.raw_table)  # the view on the version in force
        raw = self.store.view(entity.raw_table)
        staged = session.sql(f"SELECT count(*) FROM {keyed}").collect()[0][0]
        dups, conflicts = session.sql(merge_sql.repeat_counts_select(keyed, first)).collect()[0]
        unique, classified = f"{keyed}__u", f"{keyed}__c"
        session.sql(merge_sql.unique_select(keyed, first)).cache().createOrReplaceTempView(unique)
        session.sql(merge_sql.classified_select(unique, raw)).cache() \
            .createOrReplaceTempView(classified)
        inserted, updated, stored_dups = session.sql(
            merge_sql.class_counts_select(classified)
        ).collect()[0]
        if inserted or updated:
            names = [*entity.column_names, "_key", "_hash", "_import_id"]
            cols = ", ".join(f"r.{c}" for c in names)
            merged = session.sql(
                f"SELECT {cols} FROM {raw} r LEFT ANTI JOIN "
                f"({merge_sql.changed_keys_select(classified)}) c ON r._key = c._key "
                f"UNION ALL {merge_sql.new_rows_select(entity, unique, classified, import_id)}"
            )
            path = self.store.versions.next_path(entity.raw_table)
            merged.write.parquet(str(path))
            self.pending.append((entity.raw_table, path))
        return MergeCounts(
            staged=int(staged), inserted=int(inserted), updated=int(updated),
            duplicates=int(dups) + int(stored_dups), conflicts=int(conflicts),
        )

    def commit(self) -> None:
        for writer in self.writers.values():
            writer.close()
        appended = [self.store.append_file(name, self.tmp / f"{name}.parquet")
                    for name in self.writers if not name.startswith("stage_")]
        self.store.versions.publish([*appended, *(path for _, path in self.pending)])
        self.store.refresh_views([*self.writers, *(n for n, _ in self.pending)])

    def rollback(self) -> None:
        for writer in self.writers.values():
            writer.close()
        for _name, path in self.pending:
            shutil.rmtree(path, ignore_errors=True)

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


class SparkStore(Store):
    """Spark in local mode or on a cluster, with Parquet folders as tables."""

    engine = "spark"

    def __init__(self, warehouse: str, master: str = "local[2]") -> None:
        import ibis

        self.url = f"spark://{master}?warehouse={warehouse}"
        self.session = spark_session(master)
        self.versions = _Versions(Path(warehouse).resolve())
        self.prefix = f"rl{uuid.uuid4().hex[:8]}_"
        self._staged: dict[str, Path] = {}
        self._viewed: dict[str, Path] = {}
        self._ibis = ibis.pyspark.connect(self.session)
        # views are made on first use (table()); a warehouse holds dozens of tables

    @property
    def ibis(self) -> Any:
        return self._ibis

    def view(self, name: str) -> str:
        """The session view name of a store table (views are private to this store)."""
        return f"{self.prefix}{name}"

    def table(self, name: str) -> Any:
        # another process may have published a newer version since the view was made
        current = self.versions.current(name)
        if current is not None and self._viewed.get(name) != current:
            self.refresh_views([name])
        return self._ibis.table(self.view(name))

    def refresh_views(self, names: list[str] | None = None) -> None:
        """Point the session views at the current versions (of ``names``, or of every table)."""
        for name in names if names is not None else self.versions.tables():
            path = self.versions.current(name)
            if path is not None:
                self.session.read.parquet(str(path)).createOrReplaceTempView(self.view(name))
                self._viewed[name] = path

    def list_tables(self) -> list[str]:
        return self.versions.tables()

    def arrow_schema(self, name: str) -> pa.Schema:
        path = self.versions.current(name)
        if path is None:
            raise KeyError(name)
        return pq.read_schema(next(path.glob("*.parquet")))

    def spark_schema(self, schema: pa.Schema) -> Any:
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(schema)

    def _create_table(self, name: str, columns: Sequence[tuple[str, ColumnType]]) -> None:
        if self.versions.current(name) is not None:
            return
        schema = pa.schema([pa.field(n, ARROW_TYPES[t]) for n, t in columns])
        path = self.versions.next_path(name)
        path.mkdir(parents=True)
        pq.write_table(schema.empty_table(), path / "part-00000.parquet")
        self.versions.publish([path])
        self.refresh_views([name])

    def append_file(self, name: str, file: Path) -> Path:
        """A new (unpublished) version of ``name`` with one more Parquet file."""
        current = self.versions.current(name)
        path = self.versions.next_path(name)
        path.mkdir(parents=True)
        if current is not None:
            for part in current.glob("*.parquet"):
                shutil.copy2(part, path / part.name)
        shutil.copy2(file, path / f"part-{uuid.uuid4().hex}.parquet")
        return path

    @contextmanager
    def lock(self, names: Sequence[str], *, shared: Sequence[str] = (),
             purpose: str = "") -> Iterator[None]:
        """One writer at a time on the warehouse (a file lock), whatever the names."""
        if self.versions.file_lock.depth == 0 and not self._try_lock():
            self.on_notice(f"waiting for another revloop process to finish with the "
                           f"warehouse {self.versions.root}")
        with self.versions.file_lock:  # table() reads what others published meanwhile
            yield

    def _try_lock(self) -> bool:
        import fcntl

        with open(self.versions.root / ".lock", "a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(probe, fcntl.LOCK_UN)
        return True

    def _stage(self, name: str, expr: Any) -> Any:
        path = self.versions.next_path(name)
        self.session.sql(str(self._ibis.compile(expr))).write.parquet(str(path))
        self._staged[name] = path
        view = self.view(STAGED_PREFIX + name)
        self.session.read.parquet(str(path)).createOrReplaceTempView(view)
        return self._ibis.table(view)

    def _publish(self, names: Sequence[str]) -> None:
        self.versions.publish([self._staged.pop(n) for n in names])
        self.refresh_views(list(names))

    def _discard_staged(self) -> None:
        for path in self._staged.values():
            shutil.rmtree(path, ignore_errors=True)
        self._staged.clear()
        # versions a killed process wrote but never published (newer than the one in force)
        with self.versions.file_lock:
            for base in (p for p in self.versions.root.iterdir() if p.is_dir()):
                newest = self.versions.current(base.name)
                for version in base.iterdir():
                    if (version.name.startswith("v") and newest is not None
                            and version.name > newest.name):
                        shutil.rmtree(version, ignore_errors=True)

    @contextmanager
    def transaction(self) -> Iterator[SparkTransaction]:
        tx = SparkTransaction(self)
        try:
            yield tx
        except BaseException:
            tx.rollback()
            tx.cleanup()
            raise
        tx.commit()
        tx.cleanup()

    def rebuild_raw(self, entity: Entity) -> None:
        raw = entity.raw_table
        columns = self.table(raw).columns  # also points the view at the current version
        sql = merge_sql.rekeyed_select(entity, self.view(raw), columns, SPARK_TYPES,
                                       merge_sql.SPARK)
        path = self.versions.next_path(raw)
        self.session.sql(sql).write.parquet(str(path))
        self.versions.publish([path])
        self.refresh_views([raw])

    def replace_table(self, name: str, expr: Any) -> None:
        sql = str(self._ibis.compile(expr))
        path = self.versions.next_path(name)
        self.session.sql(sql).write.parquet(str(path))
        self.versions.publish([path])
        self.refresh_views([name])

    def write_arrow(self, name: str, table: pa.Table) -> None:
        path = self.versions.next_path(name)
        path.mkdir(parents=True)
        pq.write_table(conform(table), path / "part-00000.parquet")
        self.versions.publish([path])
        self.refresh_views([name])

    def close(self) -> None:
        for name in self._viewed:
            self.session.catalog.dropTempView(self.view(name))
