"""One import: files → adapter specs → typed canonical rows → the store.

Every row read ends up stored (inserted or updated), skipped as a duplicate, or quarantined;
:class:`ImportResult` reconciles the three per entity (``read`` counts rows of the files, and
a row with several problems is one quarantined row). Each file lands in its own transaction:
a file that cannot be imported is reported with its reason and the others are stored. With
``ImportOptions.all_or_nothing`` every file of the command is one transaction, as before.
The store's locks are held for the whole command either way.
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
from revloop.store.base import Store, Transaction, arrow_schema, entity_columns

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
    """What was read from one file that was imported."""

    path: str
    format: str
    rows: int  # rows of the file (quarantined ones included)
    entities: list[str]
    notices: list[str]
    encoding: str | None = None  # the text encoding it was read in (None: Parquet)
    repaired_rows: int = 0  # rows kept with their text repaired while decoding (flagged)
    repaired_lines: list[int] = field(default_factory=list)  # the first of them


@dataclass
class FileFailure:
    """A file that was not imported, and why."""

    path: str
    code: str
    message: str  # without the path

    @classmethod
    def of(cls, exc: InputFileError) -> FileFailure:
        return cls(exc.path, exc.code, exc.message.removeprefix(f"{exc.path}: "))


@dataclass
class ImportResult:
    """The reconciliation of one import command."""

    import_id: str
    source: str
    files: list[FileReport]
    entities: dict[str, EntityCounts]
    not_imported: list[FileFailure] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(int(getattr(c, name)) for c in self.entities.values())

    @property
    def reconciles(self) -> bool:
        return all(c.reconciles for c in self.entities.values())

    @property
    def complete(self) -> bool:
        """Whether every file of the command was imported."""
        return not self.not_imported

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "source": self.source,
            "read": self.total("read"),
            "stored": self.total("stored"),
            "duplicates": self.total("duplicates"),
            "quarantined": self.total("quarantined"),
            "reconciles": self.reconciles,
            "complete": self.complete,
            "entities": {k: asdict(v) for k, v in self.entities.items()},
            "files": [asdict(f) for f in self.files],
            "not_imported": [asdict(f) for f in self.not_imported],
        }


@dataclass
class ImportOptions:
    """How files are read."""

    read: ReadOptions = field(default_factory=ReadOptions)
    dates: DateOptions = field(default_factory=DateOptions)
    all_or_nothing: bool = False  # one file that cannot be imported stops the whole import


Plan = tuple[SourceFile, list[EntitySpec]]


def _open_one(adapter: Adapter, path: str | Path, options: ImportOptions) -> Plan:
    """Open one file and check its header before anything is written."""
    fixed = adapter.read_options_for(Path(path))
    read = options.read
    if fixed and not read.delimiter_given:
        read = replace(read, **fixed)
    src = open_file(path, read)
    if src.empty:  # nothing to map: the adapter is not asked what the file holds
        return src, []
    specs = plan_date_formats(src, adapter.specs_for(src), options.dates, adapter.prepare)
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
    return src, specs


def _open_all(adapter: Adapter, paths: Sequence[str | Path], options: ImportOptions
              ) -> tuple[list[Plan], list[InputFileError]]:
    """Every file that can be opened, and the errors of those that cannot (the first error
    is raised at once with ``all_or_nothing``)."""
    if not paths:
        raise InputFileError("(none)", "no input files given", code="no_files")
    plans: list[Plan] = []
    failed: list[InputFileError] = []
    ambiguous: list[tuple[str | Path, InputFileError]] = []
    for path in paths:
        try:
            plans.append(_open_one(adapter, path, options))
        except InputFileError as exc:
            if exc.code == "ambiguous_dates":
                ambiguous.append((path, exc))  # the other files of the export may settle it
                continue
            if options.all_or_nothing:
                raise
            failed.append(exc)
    for path, vague in ambiguous:
        try:
            plans.append(_open_settled(adapter, path, options, plans, vague))
        except InputFileError as again:
            if options.all_or_nothing:
                raise
            failed.append(again)
    return plans, failed


def _open_settled(adapter: Adapter, path: str | Path, options: ImportOptions,
                  plans: list[Plan], exc: InputFileError) -> Plan:
    """A file whose numeric dates are all ambiguous, read in the order every other file of
    the command that had an unambiguous date was written in (one export, one locale); the
    file's own error when they disagree or none decided."""
    decided = [(src.path, src.date_order) for src, _ in plans if src.date_order is not None]
    orders = {order[0] for _, order in decided}
    if len(orders) != 1:
        raise exc
    (dayfirst,) = orders
    other, (_, where) = decided[0]
    plan = _open_one(adapter, path, replace(options, dates=replace(options.dates,
                                                                     dayfirst=dayfirst)))
    plan[0].notices.append(
        f"every numeric date of this file could be read either way; read "
        f"{'day' if dayfirst else 'month'} first, as {Path(other).name} of this import is "
        f"written ({where}); pass --dayfirst or --monthfirst to say otherwise")
    return plan


def run_import(
    store: Store,
    adapter: Adapter,
    paths: Sequence[str | Path],
    options: ImportOptions | None = None,
    progress: ProgressHook | None = None,
) -> ImportResult:
    """Import ``paths`` with ``adapter`` into ``store``: each file in its own transaction (a
    file that cannot be imported is listed in ``not_imported``), or all in one transaction
    with ``all_or_nothing``. A single file that cannot be imported raises its error."""
    opts = options or ImportOptions()
    plans, failed = _open_all(adapter, paths, opts)
    if failed and len(paths) == 1:
        raise failed[0]
    import_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    result = ImportResult(import_id, adapter.source, [], {},
                          [FileFailure.of(e) for e in failed])
    written = sorted({ENTITY_BY_NAME[s.entity].raw_table for _, specs in plans for s in specs})
    if not plans:
        return result
    # one import at a time per raw table (and the shared quarantine), across processes
    with store.lock([*written, "quarantine"], purpose=f"import {import_id}"):
        if opts.all_or_nothing:
            with store.transaction() as tx:
                _Unit(tx, adapter, opts, progress, import_id).run(plans, result)
        else:
            for plan in plans:
                _import_alone(store, plan, _Unit.args(adapter, opts, progress, import_id),
                              result, len(paths))
    _flag_orphans(store, result)
    return result


def _import_alone(store: Store, plan: Plan, args: tuple[Adapter, ImportOptions,
                  ProgressHook | None, str], result: ImportResult, n_paths: int) -> None:
    """One file in its own transaction; a file that breaks while being read is rolled back
    and reported (raised when it is the command's only file)."""
    try:
        with store.transaction() as tx:
            _Unit(tx, *args).run([plan], result)
    except InputFileError as exc:
        if n_paths == 1:
            raise
        result.not_imported.append(FileFailure.of(exc))


class _Unit:
    """Files staged, merged and logged in one transaction."""

    def __init__(self, tx: Transaction, adapter: Adapter, opts: ImportOptions,
                 progress: ProgressHook | None, import_id: str) -> None:
        self.tx, self.adapter, self.opts, self.progress = tx, adapter, opts, progress
        self.import_id = import_id
        self.started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.counts: dict[str, EntityCounts] = {}
        self.quarantine: list[dict[str, Any]] = []
        self.reports: list[FileReport] = []
        self.seq = 0

    @staticmethod
    def args(adapter: Adapter, opts: ImportOptions, progress: ProgressHook | None,
             import_id: str) -> tuple[Adapter, ImportOptions, ProgressHook | None, str]:
        return adapter, opts, progress, import_id

    def run(self, plans: list[Plan], result: ImportResult) -> None:
        """Stage every file, merge, log; fold the counts into ``result`` (only once the
        files are all read: a file that fails leaves ``result`` as it was)."""
        for ent in sorted({s.entity for _, specs in plans for s in specs}):
            self.tx.create_stage(f"stage_{ent}", entity_columns(ENTITY_BY_NAME[ent])
                                 + STAGE_EXTRA, ENTITY_BY_NAME[ent])
            self.counts[ent] = EntityCounts()
        for src, specs in plans:
            self._stage(src, specs)
        self._merge()
        for ent, c in self.counts.items():
            total = result.entities.setdefault(ent, EntityCounts())
            for name in ("read", "stored", "inserted", "updated", "duplicates", "quarantined"):
                setattr(total, name, getattr(total, name) + getattr(c, name))
        result.files.extend(self.reports)

    def _stage(self, src: SourceFile, specs: list[EntitySpec]) -> None:
        file = str(src.path.resolve())
        mapped_cols = {c for s in specs for c in s.source_columns()}
        rows = 0
        for batch in src.batches():
            batch = self.adapter.prepare(src.path, batch)
            rows += batch.num_rows
            for spec in specs:
                self._stage_spec(spec, batch, mapped_cols, file)
            if self.progress:
                self.progress(str(src.path), src.rows_read)
        # a record the reader could not read may have several problems: one row each
        unread = len({b.line for b in src.bad_rows})
        if specs:
            primary = self.counts[specs[0].entity]
            primary.read += unread
            primary.quarantined += unread
            self.quarantine.extend(_quarantine_row(specs[0].entity, file, b)
                                   for b in src.bad_rows)
        self.reports.append(FileReport(
            str(src.path), src.format, rows + unread,
            list(dict.fromkeys(s.entity for s in specs)),  # a Lead file fills contacts twice
            [*src.notices, *src.decode_notices()],
            None if src.format == "parquet" else src.encoding, src.repairs.rows,
            list(src.repairs.first_lines)))

    def _stage_spec(self, spec: EntitySpec, batch: pa.RecordBatch, mapped_cols: set[str],
                    file: str) -> None:
        rows = apply_spec(spec, batch, mapped_cols)
        typed, bad = coerce(
            spec.schema, rows,
            CoerceOptions(formats=dict(spec.formats), checks=dict(spec.checks),
                          max_field_bytes=self.opts.read.max_field_bytes),
            file,
        )
        counts = self.counts[spec.entity]
        counts.read += rows.num_rows
        counts.quarantined += len(bad)  # coerce returns one BadRow per row
        self.quarantine.extend(_quarantine_row(spec.entity, file, b) for b in bad)
        n = typed.num_rows
        typed = typed.append_column(
            "_seq", pa.array(np.arange(self.seq, self.seq + n, dtype=np.int64)))
        typed = typed.append_column("_file", pa.repeat(pa.scalar(file, pa.string()), n))
        self.seq += n
        self.tx.append(f"stage_{spec.entity}", _order(typed, spec.entity))

    def _merge(self) -> None:
        tx = self.tx
        for ent, c in self.counts.items():
            schema = ENTITY_BY_NAME[ent]
            for conflict in tx.conflicts(schema, f"stage_{ent}").to_pylist():
                self.quarantine.append(_conflict_row(ent, conflict))
            merged = tx.merge(schema, f"stage_{ent}", self.import_id)
            c.inserted, c.updated = merged.inserted, merged.updated
            c.stored = merged.inserted + merged.updated
            c.duplicates = merged.duplicates
            c.quarantined += merged.conflicts
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for q in self.quarantine:
            q["import_id"], q["quarantined_at"] = self.import_id, now
        tx.append_new("quarantine", pa.Table.from_pylist(self.quarantine, arrow_schema(
            QUARANTINE_COLUMNS)), QUARANTINE_KEY, QUARANTINE_COLUMNS)
        # one log row per transaction: per file by default, per command with all_or_nothing
        total = {name: sum(int(getattr(c, name)) for c in self.counts.values())
                 for name in ("read", "stored", "duplicates", "quarantined")}
        tx.append("imports", pa.Table.from_pylist([{
            "import_id": self.import_id, "source": self.adapter.source,
            "files": json.dumps([r.path for r in self.reports]), "started_at": self.started,
            "finished_at": now, **total,
            "entities": json.dumps({k: asdict(v) for k, v in self.counts.items()}),
        }], arrow_schema(IMPORT_COLUMNS)))


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
