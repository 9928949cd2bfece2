"""The one import surface the interfaces (CLI, API, web) use. No SQL and no I/O formatting.

The heavy parts (engines, Arrow, the analytics) are imported inside the functions that use
them, so that ``revloop --help`` and light commands start at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revloop.errors import ConfigError, RevloopError
from revloop.schema import ENTITIES
from revloop.settings import Settings, load_settings

if TYPE_CHECKING:
    from revloop.ingest.pipeline import ImportResult, ProgressHook
    from revloop.model.build import StepHook
    from revloop.store import Store

__all__ = [
    "ENTITIES",
    "ConfigError",
    "ImportResult",
    "RevloopError",
    "Settings",
    "Store",
    "StoreStatus",
    "build_model",
    "import_files",
    "load_settings",
    "open_store",
    "quarantine_export",
    "quarantine_rows",
    "schema_markdown",
    "status",
]


def open_store(db: str | None = None, settings: Settings | None = None,
               on_notice: Callable[[str], None] | None = None) -> Store:
    """The store at ``db`` (or the configured one), created, migrated and checked."""
    from revloop.store import connect

    s = settings or load_settings()
    return connect(db or s.db, spark_warehouse=s.spark_warehouse, on_notice=on_notice)


def import_files(
    store: Store,
    source: str,
    paths: Sequence[str | Path],
    *,
    mapping: str | Path | None = None,
    entity: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    layout: str | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    all_or_nothing: bool = False,
    settings: Settings | None = None,
    progress: ProgressHook | None = None,
) -> ImportResult:
    """Import files of ``source`` (canonical, salesforce, hubspot, mapped): each file in its
    own transaction, or all of them in one with ``all_or_nothing``. Files that could not be
    imported are listed in ``ImportResult.not_imported`` (a single file raises its error).

    ``encoding`` None detects each file's encoding (bytes it does not define are replaced and
    their rows flagged in the result); ``date_format``/``dayfirst`` override the
    per-file detection of how dates are written; ``layout`` names an ELT tool's table layout.
    """
    from revloop.ingest.adapters import get_adapter
    from revloop.ingest.dates import DateOptions
    from revloop.ingest.pipeline import ImportOptions, run_import
    from revloop.ingest.readers import ReadOptions

    s = settings or load_settings()
    adapter = get_adapter(source, entity=entity, mapping=mapping, layout=layout,
                          settings=s.import_)
    read = ReadOptions(delimiter=delimiter, encoding=encoding or None,
                       batch_rows=s.batch_rows, max_field_bytes=s.max_field_bytes)
    options = ImportOptions(read=read, dates=DateOptions(date_format, dayfirst),
                            all_or_nothing=all_or_nothing)
    return run_import(store, adapter, paths, options, progress)


def build_model(store: Store, settings: Settings | None = None,
                step: StepHook | None = None, *, full: bool = False) -> dict[str, int]:
    """Rebuild the staging, intermediate and mart tables whose inputs changed since the last
    build (all of them with ``full``); row counts of the marts."""
    from revloop.model.build import BuildOptions, build

    s = settings or load_settings()
    return build(store, BuildOptions(free_mail_domains=s.free_mail_domains,
                                     corporate_currency=s.corporate_currency), step, full=full)


@dataclass
class StoreStatus:
    """What is in a store."""

    url: str
    engine: str
    raw: dict[str, int]
    marts: dict[str, int]
    quarantined: int
    imports: list[dict[str, Any]]
    data_issues: int | None

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def status(store: Store, last_imports: int = 5) -> StoreStatus:
    """Row counts of raw tables and marts, the quarantine size and the latest imports."""
    from revloop.model import tables

    present = set(store.list_tables())
    raw = {e.name: store.count(e.raw_table) for e in ENTITIES}
    marts = {e.name: store.count(e.name) for e in ENTITIES if e.name in present}
    imports: list[dict[str, Any]] = []
    if store.count("imports"):
        t = store.table("imports")
        rows = t.order_by(t.finished_at.desc()).limit(last_imports).to_pyarrow().to_pylist()
        for r in rows:
            r["files"] = json.loads(r["files"])
            r.pop("entities", None)
            for k in ("started_at", "finished_at"):
                r[k] = r[k].isoformat() if r[k] is not None else None
            imports.append(r)
    return StoreStatus(
        url=store.url, engine=store.engine, raw=raw, marts=marts,
        quarantined=store.count("quarantine"), imports=imports,
        data_issues=store.count(tables.DATA_ISSUES) if tables.DATA_ISSUES in present else None,
    )


def quarantine_rows(store: Store, *, entity: str | None = None, import_id: str | None = None,
                    limit: int | None = 50) -> list[dict[str, Any]]:
    """Quarantined rows, newest first, optionally filtered."""
    t = store.table("quarantine")
    if entity:
        t = t.filter(t.entity == entity)
    if import_id:
        t = t.filter(t.import_id == import_id)
    t = t.order_by([t.quarantined_at.desc(), t.source_file, t.line])
    if limit:
        t = t.limit(limit)
    rows: list[dict[str, Any]] = t.to_pyarrow().to_pylist()
    for r in rows:
        r["quarantined_at"] = r["quarantined_at"].isoformat() if r["quarantined_at"] else None
    return rows


def quarantine_export(store: Store, path: str | Path, *, entity: str | None = None,
                      import_id: str | None = None, raw: bool = False) -> int:
    """Write the quarantine (filtered) to CSV or Parquet by the file's suffix; rows written.
    CSV text a spreadsheet would run as a formula is neutralised unless ``raw``."""
    import pyarrow as pa

    from revloop.tabular import write_table_file

    rows = quarantine_rows(store, entity=entity, import_id=import_id, limit=None)
    table = pa.Table.from_pylist(rows) if rows else store.table("quarantine").limit(0) \
        .to_pyarrow()
    return write_table_file(table, path, raw=raw)


def schema_markdown() -> str:
    """``docs/schema.md``: the canonical schema as Markdown."""
    from revloop.model.schema_doc import schema_markdown as markdown

    return markdown()
