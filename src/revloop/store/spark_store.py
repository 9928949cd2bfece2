"""The distributed path: Apache Spark (``local[N]`` here, a cluster in production).

Tables are Parquet folders under the warehouse, one numbered version per write
(``<warehouse>/<table>/v000007``); a version counts once its ``_SUCCESS`` marker exists, so a
write is atomic per table and readers never see half a table.
"""

from __future__ import annotations

import itertools
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
from revloop.store import merge_sql
from revloop.store.base import ARROW_TYPES, MergeCounts, Store, Transaction, conform

_SESSION: Any = None


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
    """Numbered, atomically published versions of the Parquet folders of each table."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def current(self, name: str) -> Path | None:
        base = self.root / name
        if not base.is_dir():
            return None
        done = sorted(p for p in base.iterdir() if (p / "_SUCCESS").exists())
        return done[-1] if done else None

    def tables(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if self.current(p.name) is not None)

    def next_path(self, name: str) -> Path:
        base = self.root / name
        base.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[1:]) for p in base.iterdir() if p.name.startswith("v")]
        return base / f"v{(max(numbers) + 1 if numbers else 1):06d}"

    def publish(self, path: Path) -> None:
        (path / "_SUCCESS").touch()
        for old in path.parent.iterdir():
            if old != path and old.name.startswith("v"):
                shutil.rmtree(old, ignore_errors=True)


_views = itertools.count()


class SparkTransaction(Transaction):
    """Stages go to local Parquet files; merges prepare new table versions; commit publishes."""

    def __init__(self, store: SparkStore) -> None:
        self.store = store
        self.tmp = Path(tempfile.mkdtemp(prefix="revloop-spark-tx-"))
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
        for name in list(self.writers):
            if name.startswith("stage_"):
                continue
            self.store.append_file(name, self.tmp / f"{name}.parquet")
        for _name, path in self.pending:
            self.store.versions.publish(path)
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
        self._ibis = ibis.pyspark.connect(self.session)
        self.refresh_views()

    @property
    def ibis(self) -> Any:
        return self._ibis

    def view(self, name: str) -> str:
        """The session view name of a store table (views are private to this store)."""
        return f"{self.prefix}{name}"

    def table(self, name: str) -> Any:
        return self._ibis.table(self.view(name))

    def refresh_views(self, names: list[str] | None = None) -> None:
        """Point the session views at the current versions (of ``names``, or of every table)."""
        for name in names if names is not None else self.versions.tables():
            path = self.versions.current(name)
            if path is not None:
                self.session.read.parquet(str(path)).createOrReplaceTempView(self.view(name))

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
        self.versions.publish(path)
        self.refresh_views([name])

    def append_file(self, name: str, file: Path) -> None:
        """Publish a new version of ``name`` with one more Parquet file."""
        current = self.versions.current(name)
        path = self.versions.next_path(name)
        path.mkdir(parents=True)
        if current is not None:
            for part in current.glob("*.parquet"):
                shutil.copy2(part, path / part.name)
        shutil.copy2(file, path / f"part-{uuid.uuid4().hex}.parquet")
        self.versions.publish(path)

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

    def replace_table(self, name: str, expr: Any) -> None:
        sql = str(self._ibis.compile(expr))
        path = self.versions.next_path(name)
        self.session.sql(sql).write.parquet(str(path))
        self.versions.publish(path)
        self.refresh_views([name])

    def write_arrow(self, name: str, table: pa.Table) -> None:
        path = self.versions.next_path(name)
        path.mkdir(parents=True)
        pq.write_table(conform(table), path / "part-00000.parquet")
        self.versions.publish(path)
        self.refresh_views([name])

    def close(self) -> None:
        for name in self.versions.tables():
            self.session.catalog.dropTempView(self.view(name))
