"""The store's schema version: recorded at creation, migrated forward, checked on every open.

``store_meta`` holds ``schema_version``. Opening a store:

* a new (empty) store gets every table and the current version;
* an older store is migrated one version at a time (each step is idempotent, so a migration
  interrupted half-way is finished by the next open) and says so;
* a store written by a newer revloop is refused with the version it has;
* every raw and system table is then checked against the schema: a missing table, a missing
  column or a column of another type is reported as a damaged store, naming each problem,
  instead of failing later inside a query.

Versions: 1 — raw, quarantine and imports tables, no ``store_meta`` (revloop 0.1 until
2026-12); 2 — ``store_meta`` and ``builds``; unique natural keys in PostgreSQL raw tables; one
catalog of table versions on Spark; 3 — ``raw_currency_rates``; ``raw_stage_transitions`` gains
``transition_id`` (in its natural key) and ``reconstructed``, its keys and hashes recomputed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from revloop.errors import StoreError
from revloop.schema import ENTITIES, ENTITY_BY_NAME, ColumnType

if TYPE_CHECKING:
    from revloop.store.base import Store

SCHEMA_VERSION = 3
#: Raw tables later versions added (a store of an older version gets them when migrated).
RAW_TABLE_ADDED_IN: dict[str, int] = {"raw_currency_rates": 3}
_DTYPE_CHECK: dict[ColumnType, str] = {
    ColumnType.STRING: "is_string", ColumnType.JSON: "is_string",
    ColumnType.INTEGER: "is_integer", ColumnType.NUMBER: "is_floating",
    ColumnType.AMOUNT: "is_floating", ColumnType.BOOLEAN: "is_boolean",
    ColumnType.DATE: "is_date", ColumnType.TIMESTAMP: "is_timestamp",
}


class StoreVersionError(StoreError):
    """A store this revloop cannot use as it is: newer, or damaged."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def expected_tables() -> dict[str, list[tuple[str, ColumnType]]]:
    """Every table a store of the current version has, with its columns."""
    from revloop.store.base import SYSTEM_TABLES, raw_columns

    out = {e.raw_table: raw_columns(e) for e in ENTITIES}
    out.update({name: list(cols) for name, cols in SYSTEM_TABLES.items()})
    return out


def recorded_version(store: Store, existing: set[str]) -> int | None:
    """The schema version the store records; 1 for a store from before versions were
    recorded; None for a new store."""
    from revloop.store.base import STORE_META

    if STORE_META in existing:
        t = store.table(STORE_META)
        rows = t.filter(t.key == "schema_version").select("value").to_pyarrow().to_pylist()
        if rows:
            return int(rows[-1]["value"])
    return 1 if any(e.raw_table in existing for e in ENTITIES) else None


#: Raw tables whose columns or natural key a version changed: rebuilt when migrating to it.
RAW_TABLES_REBUILT_IN: dict[int, tuple[str, ...]] = {
    3: ("stage_transitions",),  # + transition_id (in the key) and reconstructed
}


def _migrate_raw(store: Store, step: int) -> None:
    """Rebuild the raw tables version ``step + 1`` changed, unless already done (a migration
    interrupted half-way is finished by the next open)."""
    for name in RAW_TABLES_REBUILT_IN.get(step + 1, ()):
        ent = ENTITY_BY_NAME[name]
        if ent.raw_table in store.list_tables() and \
                set(ent.column_names) - set(store.table(ent.raw_table).columns):
            store.rebuild_raw(ent)


def ensure_current(store: Store) -> None:
    """Create, migrate or refuse the store (see the module docstring), then verify it."""
    existing = set(store.list_tables())
    version = recorded_version(store, existing)
    if version is not None and version > SCHEMA_VERSION:
        raise StoreVersionError(
            f"the store {store.url} has schema version {version}, newer than this revloop "
            f"understands ({SCHEMA_VERSION}): upgrade revloop to use it", code="store_too_new")
    for name, cols in expected_tables().items():
        if name not in existing and (version is None or not name.startswith("raw_")
                                     or RAW_TABLE_ADDED_IN.get(name, 1) > version):
            store.create_table(name, cols)
    if version is None:
        _record(store, {"schema_version": str(SCHEMA_VERSION), "created_at": _now()})
    elif version < SCHEMA_VERSION:
        for step in range(version, SCHEMA_VERSION):
            store.migrate(step)
            _migrate_raw(store, step)
        _record(store, {"schema_version": str(SCHEMA_VERSION), "migrated_at": _now(),
                        "migrated_from": str(version)})
        store.on_notice(f"migrated the store from schema version {version} to "
                        f"{SCHEMA_VERSION}")
    verify(store)


def verify(store: Store) -> None:
    """Raise :class:`StoreVersionError` naming every missing table or column and every column
    of the wrong type."""
    existing = set(store.list_tables())
    problems: list[str] = []
    for name, cols in expected_tables().items():
        if name not in existing:
            problems.append(f"table {name} is missing")
            continue
        problems += _column_problems(name, store.table(name).schema(), cols)
    if problems:
        shown = "; ".join(problems[:12]) + (f"; and {len(problems) - 12} more"
                                            if len(problems) > 12 else "")
        raise StoreVersionError(
            f"the store {store.url} is damaged or was altered outside revloop: {shown}. "
            "Restore it from a backup, or start a new store and import the files again",
            code="store_damaged")


def _column_problems(table: str, schema: Any, cols: list[tuple[str, ColumnType]]) -> list[str]:
    problems = []
    for name, kind in cols:
        if name not in schema:
            problems.append(f"{table}.{name} is missing")
        elif not getattr(schema[name], _DTYPE_CHECK[kind])():
            problems.append(f"{table}.{name} is {schema[name]}, expected {kind.value}")
    return problems


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()


def meta_value(store: Store, key: str) -> str | None:
    """The value of ``key`` in ``store_meta`` (None when unset)."""
    from revloop.store.base import STORE_META

    if STORE_META not in store.list_tables():
        return None
    t = store.table(STORE_META)
    rows = t.filter(t.key == key).select("value").to_pyarrow().to_pylist()
    return str(rows[-1]["value"]) if rows else None


def record_meta(store: Store, values: dict[str, str]) -> None:
    """Set keys of ``store_meta`` (the other keys are kept)."""
    _record(store, values)


def _record(store: Store, values: dict[str, str]) -> None:
    """Set keys of ``store_meta`` (the other keys are kept)."""
    from revloop.store.base import STORE_META

    current = {r["key"]: r["value"] for r in store.table(STORE_META).to_pyarrow().to_pylist()}
    current.update(values)
    store.write_arrow(STORE_META, pa.table({"key": list(current), "value": list(current.values())},
                                           schema=pa.schema([("key", pa.string()),
                                                             ("value", pa.string())])))
