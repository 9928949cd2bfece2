"""The merge steps for engines with real SQL transactions (DuckDB, PostgreSQL)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from revloop.model.schema import ColumnType, Entity
from revloop.store import merge_sql
from revloop.store.base import MergeCounts, Transaction


class SqlTransaction(Transaction):
    """A transaction that runs the merge as SQL statements on one connection."""

    dialect: merge_sql.Dialect
    type_names: dict[ColumnType, str]

    def __init__(self) -> None:
        self._prepared: set[str] = set()

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run one statement."""

    @abstractmethod
    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""

    @abstractmethod
    def fetch_arrow(self, sql: str) -> pa.Table:
        """Run a query and return Arrow."""

    def create_stage(self, name: str, columns: Sequence[tuple[str, ColumnType]]) -> None:
        cols = ", ".join(f'"{n}" {self.type_names[t]}' for n, t in columns)
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMP TABLE {name} ({cols})")

    def clear_stage(self, name: str) -> None:
        self.execute(f"DELETE FROM {name}")

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

    def _prepare(self, entity: Entity, stage: str) -> tuple[str, str]:
        keyed, first = f"{stage}__k", f"{stage}__f"
        if stage not in self._prepared:
            d = self.dialect
            self.execute(f"CREATE TEMP TABLE {keyed} AS {merge_sql.keyed_select(entity, stage, d)}")
            self.execute(f"CREATE TEMP TABLE {first} AS {merge_sql.first_seen_select(keyed)}")
            self._prepared.add(stage)
        return keyed, first

    def conflicts(self, entity: Entity, stage: str) -> pa.Table:
        keyed, first = self._prepare(entity, stage)
        return self.fetch_arrow(merge_sql.conflicts_select(keyed, first))

    def merge(self, entity: Entity, stage: str, import_id: str) -> MergeCounts:
        keyed, first = self._prepare(entity, stage)
        unique, classified = f"{stage}__u", f"{stage}__c"
        raw = entity.raw_table
        staged = int(self.fetch(f"SELECT count(*) FROM {keyed}")[0][0])
        dups, conflicts = (int(v) for v in self.fetch(merge_sql.repeat_counts_select(keyed, first))[0])
        self.execute(f"CREATE TEMP TABLE {unique} AS {merge_sql.unique_select(keyed, first)}")
        self.execute(
            f"CREATE TEMP TABLE {classified} AS {merge_sql.classified_select(unique, raw)}"
        )
        inserted, updated, stored_dups = (
            int(v) for v in self.fetch(merge_sql.class_counts_select(classified))[0]
        )
        if updated:
            self.execute(
                f"DELETE FROM {raw} WHERE _key IN ({merge_sql.changed_keys_select(classified)})"
            )
        if inserted or updated:
            self.execute(
                f"INSERT INTO {raw} "
                f"{merge_sql.new_rows_select(entity, unique, classified, import_id)}"
            )
        for name in (classified, unique, first, keyed):
            self.execute(f"DROP TABLE {name}")
        self._prepared.discard(stage)
        return MergeCounts(
            staged=staged,
            inserted=inserted,
            updated=updated,
            duplicates=dups + stored_dups,
            conflicts=conflicts,
        )


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
