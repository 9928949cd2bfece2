"""The Salesforce adapter: which object a file holds, its specs resolved against the file's
own header, and the batch preparation (deleted rows, empty lookups, derived columns)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from revloop.errors import InputFileError
from revloop.ingest.adapters.base import Adapter, match_object, object_name
from revloop.ingest.adapters.salesforce.columns import (
    Header,
    deleted_rows,
    deletion_flags,
    is_meta,
    without_empty_ids,
)
from revloop.ingest.adapters.salesforce.derive import EXTRA, Frame, Options
from revloop.ingest.adapters.salesforce.objects import (
    ALIASES,
    OBJECT_BY_NAME,
    SOURCE,
    SalesforceObject,
)
from revloop.ingest.adapters.salesforce.values import LEAD_STATUS_STAGES, LOSS_REASON_FIELDS
from revloop.ingest.coerce import json_objects
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec, FieldSpec

#: ELT tools whose table layout this adapter reads (``--layout``; None: told by the columns).
LAYOUTS = ("fivetran", "airbyte")
_TOOL_NAMES = {"fivetran": "a Fivetran", "airbyte": "an Airbyte"}


@dataclass
class FilePlan:
    """What the adapter decided about one file, for its batches."""

    obj: SalesforceObject
    header: Header
    layout: str | None
    extra: list[str]  # source columns copied into custom / properties
    bag: bool  # the primary entity has custom / properties and the file has extra columns
    notices: list[str] = field(default_factory=list)  # the file's notices (shared list)
    deletion: list[tuple[str, bool]] = field(default_factory=list)  # see deletion_flags
    deleted_lines: set[int | None] = field(default_factory=set)
    deleted_notice: int | None = None  # index of the deleted-rows notice in ``notices``


def detect_layout(columns: Iterable[str]) -> str | None:
    """``fivetran`` / ``airbyte`` when the header has that tool's ``_<tool>_*`` columns."""
    names = [c.lower() for c in columns]
    for layout in LAYOUTS:
        if any(n.startswith(f"_{layout}_") for n in names):
            return layout
    return None


class SalesforceAdapter(Adapter):
    """Salesforce exports (Data Export, Data Loader, Fivetran and Airbyte tables) to
    canonical entities; see the package docstring for the mapping."""

    source = SOURCE

    def __init__(self, entity: str | None = None, layout: str | None = None, *,
                 loss_reason_fields: Sequence[str] = LOSS_REASON_FIELDS,
                 lead_statuses: Mapping[str, str] | None = None) -> None:
        self.entity = entity
        self.layout = layout  # "fivetran" / "airbyte": an ELT tool's table layout; None: detect
        self.options = Options(tuple(loss_reason_fields),
                               dict(LEAD_STATUS_STAGES if lead_statuses is None
                                    else lead_statuses))
        self._plans: dict[Path, FilePlan] = {}

    def object_for(self, path: Path, columns: Sequence[str] = ()) -> SalesforceObject:
        """The Salesforce object a file holds (from ``--entity`` or the file name). An ELT
        tool's tables are named exactly after their object (``opportunity_line_item`` is not
        an ``opportunity``); an export's file name may carry a suffix (``Lead_2024.csv``)."""
        if self.entity or (self.layout or detect_layout(columns)) is None:
            return OBJECT_BY_NAME[match_object(path, ALIASES, self.entity, SOURCE)]
        stem = object_name(path)
        if stem in ALIASES:
            return OBJECT_BY_NAME[ALIASES[stem]]
        raise InputFileError(
            str(path), f"cannot tell which {SOURCE} object the table {stem!r} holds; tables "
            f"are read by their object name (known: {', '.join(sorted(ALIASES))}); pass "
            "--entity to read it as one of them", code="unknown_object")

    def specs_for(self, src: SourceFile) -> list[EntitySpec]:
        plan = self._plan(src.path, src.columns, src.notices)
        _check_one_of(plan, src)
        specs = _resolved(plan.obj.build(), plan.header)
        specs[0].required = plan.header.resolve_all(plan.obj.required)
        if plan.bag:
            specs[0].fields.append(FieldSpec(target=_bag(specs[0]) or "custom", source=EXTRA))
        return specs

    def prepare(self, path: Path, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Drop deleted rows, blank Salesforce's empty lookup id, and add the columns computed
        from several source columns and the JSON object of the unmapped ones."""
        plan = self._plans.get(path) or self._plan(path, batch.schema.names, [])
        batch = without_empty_ids(self._without_deleted(plan, batch))
        frame = Frame(batch, plan.header, self.options)
        added = plan.obj.derive(frame) if plan.obj.derive is not None else {}
        if plan.bag:
            added[EXTRA] = json_objects({c: batch.column(c) for c in plan.extra},
                                        batch.num_rows)
        names = [n for n in batch.schema.names if n not in added]
        return pa.RecordBatch.from_arrays(
            [batch.column(n) for n in names] + list(added.values()),
            names=names + list(added),
        )

    def _plan(self, path: Path, columns: Sequence[str], notices: list[str]) -> FilePlan:
        columns = [c for c in columns if c != "_line"]
        obj = self.object_for(path, columns)
        header = Header.of(columns)
        layout = self.layout or detect_layout(columns)
        specs = _resolved(obj.build(), header)
        extra = _extra_columns(obj, specs, columns, header, self.options) if _bag(
            specs[0]) else []
        plan = FilePlan(obj, header, layout, extra, bool(extra), notices,
                        deletion_flags(columns, header))
        _note_file(plan)
        self._plans[path] = plan
        return plan

    def _without_deleted(self, plan: FilePlan, batch: pa.RecordBatch) -> pa.RecordBatch:
        deleted = deleted_rows(batch, plan.deletion)
        if not pc.any(deleted).as_py():
            return batch
        # counted by line: a batch may be prepared twice (the date planner's pre-pass)
        lines = batch.filter(deleted).column("_line").to_pylist() if "_line" in \
            batch.schema.names else [None]
        plan.deleted_lines.update(lines)
        count = len(plan.deleted_lines)
        why = " or ".join(f"{name} {str(value).lower()}" for name, value in plan.deletion)
        text = (f"{count} deleted row{'s' if count > 1 else ''} skipped ({why}): not "
                "imported, so not counted as read")
        if plan.deleted_notice is None:
            plan.deleted_notice = len(plan.notices)
            plan.notices.append(text)
        else:
            plan.notices[plan.deleted_notice] = text
        return batch.filter(pc.invert(deleted))


def _note_file(plan: FilePlan) -> None:
    """Notices about the whole file: the layout read, a Lead file without creation dates."""
    if plan.layout is not None:
        plan.notices.append(f"read as {_TOOL_NAMES[plan.layout]} table: its "
                            f"_{plan.layout}_* sync columns are not imported")
    if plan.obj.name == "Lead" and plan.header.find("CreatedDate") is None:
        plan.notices.append("no CreatedDate column: the leads have no creation time and get "
                            "no inquiry transition")


def _check_one_of(plan: FilePlan, src: SourceFile) -> None:
    obj = plan.obj
    if obj.one_of and not any(plan.header.find(c) for c in obj.one_of):
        raise InputFileError(
            str(src.path),
            f"missing required column: a {SOURCE} {obj.name} file needs one of "
            f"{', '.join(repr(c) for c in obj.one_of)}; the header has: "
            f"{', '.join(src.columns[:30])}{' …' if len(src.columns) > 30 else ''}",
            code="missing_column",
        )


def _resolved(specs: list[EntitySpec], header: Header) -> list[EntitySpec]:
    """The specs with every source column named as the file names it (``stage_name`` for
    ``StageName``); columns the file lacks and derived ``__sf_*`` ones keep their names."""
    for spec in specs:
        for f in spec.fields:
            if f.source:
                f.source = header.resolve(f.source)
            f.fallback = header.resolve_all(f.fallback)
        for u in spec.unpivot:
            u.column = header.resolve(u.column)
        if spec.where:
            spec.where = header.resolve(spec.where)
    return specs


def _bag(spec: EntitySpec) -> str | None:
    """The entity's column for extra source columns: ``custom``, ``properties`` or none."""
    names = spec.schema.column_names
    return "custom" if "custom" in names else "properties" if "properties" in names else None


def _extra_columns(obj: SalesforceObject, specs: list[EntitySpec], columns: Sequence[str],
                   header: Header, options: Options) -> list[str]:
    """Source columns no spec maps (plus ``keep``), in file order; never sync columns."""
    used = {c for s in specs for c in s.source_columns()}
    used |= set(header.resolve_all(obj.consumed_with(options)))
    keep = set(header.resolve_all(obj.keep))
    return [c for c in columns if (c not in used or c in keep) and not is_meta(c)]
