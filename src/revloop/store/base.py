"""The store contract shared by every engine.

A store gives two things: an Ibis backend for every read and every model query, and a
transactional writer used by imports (stage Arrow batches, merge them, commit or roll back).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from revloop.schema import (
    BUILD_COLUMNS,
    IMPORT_COLUMNS,
    META_COLUMNS,
    QUARANTINE_COLUMNS,
    STORE_META_COLUMNS,
    ColumnType,
    Entity,
)

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.NUMBER: pa.float64(),
    ColumnType.AMOUNT: pa.float64(),
    ColumnType.BOOLEAN: pa.bool_(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us"),
    ColumnType.JSON: pa.string(),
}


def arrow_schema(columns: Sequence[tuple[str, ColumnType]]) -> pa.Schema:
    """The Arrow schema of ``(name, type)`` pairs."""
    return pa.schema([pa.field(name, ARROW_TYPES[kind]) for name, kind in columns])


def logical_columns(schema: pa.Schema) -> list[tuple[str, ColumnType]]:
    """The logical column types of an Arrow schema (the inverse of :func:`arrow_schema`)."""
    out: list[tuple[str, ColumnType]] = []
    for f in schema:
        t = f.type
        if pa.types.is_boolean(t):
            kind = ColumnType.BOOLEAN
        elif pa.types.is_integer(t):
            kind = ColumnType.INTEGER
        elif pa.types.is_floating(t) or pa.types.is_decimal(t):
            kind = ColumnType.NUMBER
        elif pa.types.is_date(t):
            kind = ColumnType.DATE
        elif pa.types.is_timestamp(t):
            kind = ColumnType.TIMESTAMP
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
            kind = ColumnType.STRING
        else:
            raise TypeError(f"column {f.name!r} has type {t}, which no store column can hold")
        out.append((f.name, kind))
    return out


def conform(table: pa.Table) -> pa.Table:
    """``table`` cast to the physical types every store uses (int64, float64, naive µs …)."""
    return table.cast(arrow_schema(logical_columns(table.schema)))


def entity_columns(entity: Entity) -> list[tuple[str, ColumnType]]:
    """Canonical columns of an entity as ``(name, type)`` pairs."""
    return [(c.name, c.type) for c in entity.columns]


def raw_columns(entity: Entity) -> list[tuple[str, ColumnType]]:
    """Columns of ``raw_<entity>``: the canonical ones and the bookkeeping ones."""
    return entity_columns(entity) + list(META_COLUMNS)


STORE_META = "store_meta"
BUILDS = "builds"
SYSTEM_TABLES: dict[str, Sequence[tuple[str, ColumnType]]] = {
    "quarantine": QUARANTINE_COLUMNS,
    "imports": IMPORT_COLUMNS,
    STORE_META: STORE_META_COLUMNS,
    BUILDS: BUILD_COLUMNS,
}


@dataclass(frozen=True)
class MergeCounts:
    """What a merge did with the staged rows of one entity."""

    staged: int
    inserted: int
    updated: int
    duplicates: int
    conflicts: int  # same key as an earlier row of the same import, different content


class Transaction(ABC):
    """A unit of work on the store: everything in it lands together or not at all."""

    @abstractmethod
    def create_stage(
        self, name: str, columns: Sequence[tuple[str, ColumnType]], entity: Entity | None = None
    ) -> None:
        """Create an empty private staging table (for ``entity``'s rows when given)."""

    @abstractmethod
    def append(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        """Append Arrow rows to a table (staging or system table)."""

    @abstractmethod
    def merge(self, entity: Entity, stage: str, import_id: str) -> MergeCounts:
        """Merge staged canonical rows into ``raw_<entity>`` by natural key and content hash."""

    @abstractmethod
    def conflicts(self, entity: Entity, stage: str) -> pa.Table:
        """Staged rows whose key repeats an earlier line with different content."""

    @abstractmethod
    def append_new(
        self, name: str, table: pa.Table, key: tuple[str, ...],
        columns: Sequence[tuple[str, ColumnType]],
    ) -> int:
        """Append the rows of ``table`` whose ``key`` is not in ``name`` yet; return how many."""


#: Staged tables of an unpublished generation are called ``_next_<table>``.
STAGED_PREFIX = "_next_"


class Generation:
    """A set of tables replaced together (see :meth:`Store.generation`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.written: list[str] = []
        self._tables: dict[str, Any] = {}

    def replace_table(self, name: str, expr: Any) -> None:
        """Materialise ``expr`` as the next version of table ``name``."""
        self._tables[name] = self.store._stage(name, expr)
        if name not in self.written:
            self.written.append(name)

    def table(self, name: str) -> Any:
        """Table ``name`` as this generation sees it: its new version once written here,
        else the one in force."""
        return self._tables[name] if name in self._tables else self.store.table(name)


class Store(ABC):
    """A connected store. Use :func:`revloop.store.connect` to get one."""

    engine: str
    url: str
    #: Called with a one-line message when the store has something to say while it works
    #: (e.g. that it waits for another process); the CLI prints it on stderr.
    on_notice: Callable[[str], None] = staticmethod(lambda _message: None)

    @property
    @abstractmethod
    def ibis(self) -> Any:
        """The Ibis backend to build queries on."""

    @abstractmethod
    def list_tables(self) -> list[str]:
        """Tables present in the store."""

    @abstractmethod
    def _create_table(self, name: str, columns: Sequence[tuple[str, ColumnType]]) -> None:
        """Create an empty table if it does not exist."""

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction for imports: commit on success, roll back on any exception."""

    @abstractmethod
    def replace_table(self, name: str, expr: Any) -> None:
        """Materialise an Ibis expression as table ``name``, replacing it atomically."""

    @abstractmethod
    def write_arrow(self, name: str, table: pa.Table) -> None:
        """Store an Arrow table as table ``name``, replacing it atomically (results, truth)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    @contextmanager
    def lock(self, names: Sequence[str], *, shared: Sequence[str] = (),
             purpose: str = "") -> Iterator[None]:
        """Hold the named locks (``names`` exclusively, ``shared`` shared) for the block, across
        processes. Imports lock the raw tables they write; builds lock ``build`` and read the raw
        tables under shared locks. The default does nothing: an engine whose store admits one
        writing process (DuckDB) needs no more."""
        yield

    @contextmanager
    def generation(self) -> Iterator[Generation]:
        """Tables written through the generation are published together when the block ends
        without an error: a reader sees all the old tables or all the new ones, never a mix.
        An error (or a killed process) leaves the tables in force as they were; what a killed
        generation staged is removed when the next one starts."""
        self._discard_staged()
        gen = Generation(self)
        try:
            yield gen
        except BaseException:
            self._discard_staged()
            raise
        self._publish(gen.written)

    def _stage(self, name: str, expr: Any) -> Any:
        """Materialise ``expr`` as the staged version of ``name``; its Ibis table."""
        self.replace_table(STAGED_PREFIX + name, expr)
        return self.table(STAGED_PREFIX + name)

    def _publish(self, names: Sequence[str]) -> None:
        """Replace every table of ``names`` by its staged version, in one step."""
        raise NotImplementedError

    def _discard_staged(self) -> None:
        """Drop what an unfinished generation staged."""
        raise NotImplementedError

    def ensure_schema(self) -> None:
        """Create a new store's tables, migrate an older one, refuse a damaged or newer one.

        See :mod:`revloop.store.versions`."""
        from revloop.store.versions import ensure_current

        with self.lock(["schema"], purpose="schema check"):
            ensure_current(self)

    def create_table(self, name: str, columns: Sequence[tuple[str, ColumnType]]) -> None:
        """Create an empty table if it does not exist (raw tables get their key index)."""
        self._create_table(name, columns)

    def rebuild_raw(self, entity: Entity) -> None:
        """Rewrite ``entity``'s raw table in the current schema (added columns NULL, keys and
        hashes recomputed), atomically; for migrations that add columns or extend a key."""
        raise NotImplementedError

    def migrate(self, from_version: int) -> None:  # noqa: B027 - most engines have none
        """Engine-specific steps of the migration from ``from_version`` to the next version
        (the tables every version adds are created by the caller)."""

    def table(self, name: str) -> Any:
        """An Ibis table of the store."""
        return self.ibis.table(name)

    def count(self, name: str) -> int:
        """Number of rows in a table (0 when it does not exist)."""
        if name not in self.list_tables():
            return 0
        return int(self.table(name).count().execute())

    def to_arrow(self, name: str) -> pa.Table:
        """A whole table as Arrow."""
        return self.table(name).to_pyarrow()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

