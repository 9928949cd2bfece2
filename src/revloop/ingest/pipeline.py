"""One import: files → adapter specs → typed canonical rows → one store transaction.

Every row read ends up stored (inserted or updated), skipped as a duplicate, or quarantined;
:class:`ImportResult` reconciles the three per entity. Nothing is written unless everything is.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from revloop.errors import InputFileError
from revloop.ingest.adapters.base import Adapter
from revloop.ingest.coerce import CoerceOptions, coerce
from revloop.ingest.dates import DateOptions, plan_date_formats
from revloop.ingest.readers import BadRow, ReadOptions, SourceFile, open_file
from revloop.ingest.spec import EntitySpec, apply_spec
from revloop.schema import (
    ENTITY_BY_NAME,
    IMPORT_COLUMNS,
    QUARANTINE_COLUMNS,
    ColumnType,
)
from revloop.store.base import Store, arrow_schema, entity_columns

STAGE_EXTRA: list[tuple[str, ColumnType]] = [
    ("_seq", ColumnType.INTEGER), ("_file", ColumnType.STRING), ("_line", ColumnType.INTEGER),
]
QUARANTINE_KEY = ("entity", "source_file", "line", "column_name", "code")

ProgressHook = Callable[[str, int], None]  # (file, rows read so far in it)


@dataclass
class EntityCounts:
    """Reconciliation of one entity: read = stored + duplicates + quarantined."""

    read: int = 0
    stored: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    orphans: dict[str, int] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return self.read == self.stored + self.duplicates + self.quarantined


@dataclass
class FileReport:
    """What was read from one file."""

    path: str
    format: str
    rows: int
    entities: list[str]
    notices: list[str]


@dataclass
class ImportResult:
    """The reconciliation of one import."""

    import_id: str
    source: str
    files: list[FileReport]
    entities: dict[str, EntityCounts]

    def total(self, name: str) -> int:
        return sum(int(getattr(c, name)) for c in self.entities.values())

    @property
    def reconciles(self) -> bool:
        return all(c.reconciles for c in self.entities.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "source": self.source,
            "read": self.total("read"),
            "stored": self.total("stored"),
            "duplicates": self.total("duplicates"),
            "quarantined": self.total("quarantined"),
            "reconciles": self.reconciles,
            "entities": {k: asdict(v) for k, v in self.entities.items()},
            "files": [asdict(f) for f in self.files],
        }


@dataclass
class ImportOptions:
    """How files are read."""

    read: ReadOptions = field(default_factory=ReadOptions)
    dates: DateOptions = field(default_factory=DateOptions)
    all_or_nothing: bool = False  # one unreadable file stops the whole import


def _open_all(
    adapter: Adapter, paths: Sequence[str | Path], options: ImportOptions
) -> list[tuple[SourceFile, list[EntitySpec]]]:
    """Open every file and check its header before anything is written."""
    if not paths:
        raise InputFileError("(none)", "no input files given", code="no_files")
    plans = []
    for path in paths:
        fixed = adapter.read_options_for(Path(path))
        read = options.read
        if fixed and not read.delimiter_given:
            read = replace(read, **fixed)
        src = open_file(path, read)
        specs = plan_date_formats(src, adapter.specs_for(src), options.dates)
        missing = sorted({c for s in specs for c in s.required} - set(src.columns))
        if missing:
            raise InputFileError(
                str(src.path),
                f"missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(m) for m in missing)} for {adapter.source} "
                f"{'/'.join(sorted({s.entity for s in specs}))}; the header has: "
                f"{', '.join(src.columns[:30])}{' …' if len(src.columns) > 30 else ''}",
                code="missing_column",
            )
        plans.append((src, specs))
    return plans


def run_import(
    store: Store,
    adapter: Adapter,
    paths: Sequence[str | Path],
    options: ImportOptions | None = None,
    progress: ProgressHook | None = None,
) -> ImportResult:
    """Import ``paths`` with ``adapter`` into ``store`` in one transaction."""
    opts = options or ImportOptions()
    plans = _open_all(adapter, paths, opts)
    import_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    counts: dict[str, EntityCounts] = {}
    quarantine: list[dict[str, Any]] = []
    reports: list[FileReport] = []
    seq = 0
    written = sorted(ENTITY_BY_NAME[s.entity].raw_table for _, specs in plans for s in specs)
    # one import at a time per raw table (and the shared quarantine), across processes
    with store.lock([*written, "quarantine"], purpose=f"import {import_id}"), \
            store.transaction() as tx:
        for ent in sorted({s.entity for _, specs in plans for s in specs}):
            tx.create_stage(f"stage_{ent}", entity_columns(ENTITY_BY_NAME[ent]) + STAGE_EXTRA,
                            ENTITY_BY_NAME[ent])
            counts[ent] = EntityCounts()
        for src, specs in plans:
            file = str(src.path.resolve())
            mapped_cols = {c for s in specs for c in s.source_columns()}
            for batch in src.batches():
                batch = adapter.prepare(src.path, batch)
                for spec in specs:
                    rows = apply_spec(spec, batch, mapped_cols)
                    typed, bad = coerce(
                        spec.schema, rows,
                        CoerceOptions(formats=dict(spec.formats), checks=dict(spec.checks),
                                      max_field_bytes=opts.read.max_field_bytes),
                        file,
                    )
                    counts[spec.entity].read += rows.num_rows
                    counts[spec.entity].quarantined += len(bad)
                    quarantine.extend(_quarantine_row(spec.entity, file, b) for b in bad)
                    n = typed.num_rows
                    typed = typed.append_column(
                        "_seq", pa.array(np.arange(seq, seq + n, dtype=np.int64)))
                    typed = typed.append_column("_file", pa.array([file] * n, pa.string()))
                    seq += n
                    tx.append(f"stage_{spec.entity}", _order(typed, spec.entity))
                if progress:
                    progress(str(src.path), src.rows_read)
            primary = specs[0].entity
            counts[primary].read += len(src.bad_rows)
            counts[primary].quarantined += len(src.bad_rows)
            quarantine.extend(_quarantine_row(primary, file, b) for b in src.bad_rows)
            reports.append(FileReport(str(src.path), src.format, src.rows_read,
                                      [s.entity for s in specs], src.notices))
        for ent, c in counts.items():
            schema = ENTITY_BY_NAME[ent]
            for conflict in tx.conflicts(schema, f"stage_{ent}").to_pylist():
                quarantine.append(_conflict_row(ent, conflict))
            merged = tx.merge(schema, f"stage_{ent}", import_id)
            c.inserted, c.updated = merged.inserted, merged.updated
            c.stored = merged.inserted + merged.updated
            c.duplicates = merged.duplicates
            c.quarantined += merged.conflicts
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for q in quarantine:
            q["import_id"], q["quarantined_at"] = import_id, now
        tx.append_new("quarantine", pa.Table.from_pylist(quarantine, arrow_schema(
            QUARANTINE_COLUMNS)), QUARANTINE_KEY, QUARANTINE_COLUMNS)
        result = ImportResult(import_id, adapter.source, reports, counts)
        tx.append("imports", pa.Table.from_pylist([{
            "import_id": import_id, "source": adapter.source,
            "files": json.dumps([r.path for r in reports]), "started_at": started,
            "finished_at": now, "read": result.total("read"), "stored": result.total("stored"),
            "duplicates": result.total("duplicates"),
            "quarantined": result.total("quarantined"),
            "entities": json.dumps({k: asdict(v) for k, v in counts.items()}),
        }], arrow_schema(IMPORT_COLUMNS)))
    _flag_orphans(store, result)
    return result


def _order(batch: pa.RecordBatch, ent: str) -> pa.RecordBatch:
    names = [*ENTITY_BY_NAME[ent].column_names, "_seq", "_file", "_line"]
    return pa.RecordBatch.from_arrays([batch.column(n) for n in names], names=names)


def _quarantine_row(ent: str, file: str, bad: BadRow) -> dict[str, Any]:
    return {
        "entity": ent, "source_file": file, "line": bad.line, "column_name": bad.column,
        "value": bad.value, "code": bad.code, "reason": bad.reason,
        "record": json.dumps(bad.record, default=str) if bad.record is not None else None,
    }


def _conflict_row(ent: str, c: dict[str, Any]) -> dict[str, Any]:
    where = f"line {c['first_line']}"
    if c["first_file"] != c["_file"]:
        where += f" of {Path(c['first_file']).name}"
    key = str(c["_key"]).replace("\x1f", " / ").replace("\x1e", "∅")
    return {
        "entity": ent, "source_file": c["_file"], "line": c["_line"], "column_name": None,
        "value": key, "code": "duplicate_key_conflict",
        "reason": f"{ent} {key!r} already appeared at {where} with different content; "
        "the first one was kept",
        "record": None,
    }


def _flag_orphans(store: Store, result: ImportResult) -> None:
    """Count stored rows of this import whose references point nowhere (kept, flagged)."""
    for ent_name, c in result.entities.items():
        if not c.stored:
            continue
        ent = ENTITY_BY_NAME[ent_name]
        raw = store.table(ent.raw_table)
        rows = raw.filter(raw._import_id == result.import_id)
        for col in ent.columns:
            if not col.references:
                continue
            target = ENTITY_BY_NAME[col.references]
            keys = store.table(target.raw_table)[target.key[0]]
            orphan = rows.filter(rows[col.name].notnull() & ~rows[col.name].isin(keys))
            n = int(orphan.count().execute())
            if n:
                c.orphans[col.name] = n
