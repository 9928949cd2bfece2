"""The merge steps for engines with real SQL transactions (DuckDB, PostgreSQL)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from revloop.errors import StoreError
from revloop.schema import ColumnType, Entity
from revloop.store import merge_sql
from revloop.store.base import MergeCounts, Transaction


class SqlTransaction(Transaction):
    """A transaction that runs the merge as SQL statements on one connection."""

    dialect: merge_sql.Dialect
    type_names: dict[ColumnType, str]

    def __init__(self) -> None:
        self._prepared: set[str] = set()
        self._entities: dict[str, Entity] = {}
        self._stage_columns: dict[str, list[tuple[str, ColumnType]]] = {}

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run one statement."""

    @abstractmethod
    def execute_count(self, sql: str) -> int:
        """Run one INSERT/UPDATE/DELETE and return how many rows it changed."""

    @abstractmethod
    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""

    @abstractmethod
    def fetch_arrow(self, sql: str) -> pa.Table:
        """Run a query and return Arrow."""

    def create_stage(
        self, name: str, columns: Sequence[tuple[str, ColumnType]], entity: Entity | None = None
    ) -> None:
        extra = [("_key", ColumnType.STRING), ("_hash", ColumnType.STRING)] if entity else []
        cols = ", ".join(f'"{n}" {self.type_names[t]}' for n, t in [*columns, *extra])
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMP TABLE {name} ({cols})")
        if entity is not None:
            self._entities[name] = entity
            self._stage_columns[name] = list(columns)

    def _insert_sql(self, name: str, source: str, names: Sequence[str]) -> str:
        """INSERT of Arrow columns into a table; entity stages also get key and hash."""
        cols = ", ".join(f'"{c}"' for c in names)
        entity = self._entities.get(name)
        if entity is None:
            return f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {source}"
        d = self.dialect
        return (
            f"INSERT INTO {name} ({cols}, _key, _hash) SELECT {cols}, "
            f"{merge_sql.key_expr(entity, d)}, {merge_sql.hash_expr(entity, d)} FROM {source}"
        )

    def append_new(
        self, name: str, table: pa.Table, key: tuple[str, ...],
        columns: Sequence[tuple[str, ColumnType]],
    ) -> int:
        if table.num_rows == 0:
            return 0
        stage = f"stage_new_{name}"
        self.create_stage(stage, columns)
        self.append(stage, table)
        before = int(self.fetch(f"SELECT count(*) FROM {name}")[0][0])
        self.execute(append_new_sql(name, stage, key, self.dialect.text_type))
        self.execute(f"DROP TABLE {stage}")
        return int(self.fetch(f"SELECT count(*) FROM {name}")[0][0]) - before

    def _first(self, stage: str) -> str:
        first = f"{stage}__f"
        if stage not in self._prepared:
            self.execute(f"DROP TABLE IF EXISTS {first}")
            select = merge_sql.first_seen_select(stage, self.dialect)
            self.execute(f"CREATE TEMP TABLE {first} AS {select}")
            self._prepared.add(stage)
        return first

    def _drop_later_repeats(self, stage: str, first: str) -> None:
        """Keep only the first row of every key repeated within the import."""
        self.execute(merge_sql.later_repeats_delete(stage, first))

    def _drop_stage(self, stage: str) -> None:
        self.execute(f"DROP TABLE {stage}")

    def conflicts(self, entity: Entity, stage: str) -> pa.Table:
        return self.fetch_arrow(merge_sql.conflicts_select(stage, self._first(stage)))

    def merge(self, entity: Entity, stage: str, import_id: str) -> MergeCounts:
        first = self._first(stage)
        raw = entity.raw_table
        staged = int(self.fetch(f"SELECT count(*) FROM {stage}")[0][0])
        dups, conflicts = (int(v) for v in self.fetch(
            merge_sql.repeat_counts_select(stage, first))[0])
        if dups or conflicts:
            self._drop_later_repeats(stage, first)
        stored_before = int(self.fetch(f"SELECT count(*) FROM {raw}")[0][0])
        if stored_before == 0:  # nothing to compare with: every unique staged row is new
            inserted, updated, stored_dups = staged - dups - conflicts, 0, 0
        else:
            inserted, updated, stored_dups = (
                int(v) for v in self.fetch(merge_sql.stored_class_counts_select(stage, raw))[0]
            )
        replaced = self.execute_count(merge_sql.changed_delete(stage, raw)) if updated else 0
        written = self.execute_count(merge_sql.new_rows_insert(
            entity, stage, raw, import_id, anti_join=stored_before > 0)) \
            if inserted or updated else 0
        # the reconciliation reports what the statements did, not what was planned
        if (replaced, written) != (updated, inserted + updated):
            raise ReconciliationError(
                f"{raw}: the merge planned {inserted:,} new and {updated:,} changed rows but "
                f"wrote {written:,} and replaced {replaced:,}; nothing was stored")
        self.execute(f"DROP TABLE {first}")
        self._drop_stage(stage)
        self._prepared.discard(stage)
        return MergeCounts(
            staged=staged, inserted=written - replaced, updated=replaced,
            duplicates=dups + stored_dups, conflicts=conflicts,
        )


class ReconciliationError(StoreError):
    """What a merge wrote differs from what it counted: the import is rolled back."""

    code = "reconciliation_failed"


def append_new_sql(target: str, stage: str, key: tuple[str, ...], text_type: str) -> str:
    """Insert staged rows whose key is not in ``target`` yet (NULL-safe on every key column)."""
    conds = " AND ".join(
        f"coalesce(cast(x.{k} AS {text_type}), '') = coalesce(cast(s.{k} AS {text_type}), '')"
        for k in key
    )
    return (
        f"INSERT INTO {target} SELECT s.* FROM {stage} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {target} x WHERE {conds})"
    )
