"""Stage history inferred for records whose file has no stage dates.

An API export with only ``createdate`` and ``lifecyclestage`` (or ``dealstage``) says where a
record is, not when it got there. For each such record (row by row: any non-empty stage-date
column means the record has real history, which is used instead) two transitions are written
with ``reconstructed = true``: the pipeline's entry stage at ``createdate``, and the current
stage at the best date known — for a closed deal its ``closedate``, else the last
modification (``lastmodifieddate``/``hs_lastmodifieddate``/``Last Modified Date``), else
``createdate``. The entry stage is ``lead`` for lifecycle stages and
``appointmentscheduled`` for deals; a record in that stage (or in ``subscriber``, in
``other`` or in a stage the default pipeline does not have) gets the one transition at
``createdate``. A ``hs_lifecyclestage_<stage>_date`` of the current stage would be a real
stage date, so such a record is never reconstructed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from revloop.ingest.adapters.hubspot import maps
from revloop.ingest.adapters.hubspot import transforms as t
from revloop.ingest.adapters.hubspot.header import Header
from revloop.ingest.adapters.hubspot.objects import CREATED, MODIFIED, SOURCE, const, formats
from revloop.ingest.spec import EntitySpec, FieldSpec

FIRST, FIRST_AT = "__hs_rebuilt_first", "__hs_rebuilt_first_at"
CURRENT, CURRENT_AT = "__hs_rebuilt_stage", "__hs_rebuilt_stage_at"
_LIFECYCLE_ADVANCED = ("marketingqualifiedlead", "salesqualifiedlead", "opportunity",
                       "customer", "evangelist")
_DEAL_ADVANCED = (*maps.OPEN_STAGES[1:], *maps.CLOSED_STAGES)


@dataclass(frozen=True)
class Plan:
    """How one file's records are reconstructed."""

    entity_type: str
    id_col: str
    stage_col: str
    labels: dict[str, str | None]
    created: tuple[str, ...]
    modified: tuple[str, ...]
    dated: tuple[str, ...]  # the stage-date columns: a row with any of them is not rebuilt
    close_date: str | None = None
    closed_flag: str | None = None

    @property
    def deal(self) -> bool:
        return self.entity_type == "opportunity"


def plan(head: Header, entity_type: str, id_col: str, stage_col: str | None,
         dated: list[str]) -> Plan | None:
    """The reconstruction of a file with a stage and a creation date column (else None)."""
    created = head.all(CREATED)
    if stage_col is None or not created:
        return None
    deal = entity_type == "opportunity"
    return Plan(
        entity_type=entity_type, id_col=id_col, stage_col=stage_col,
        labels=maps.DEAL_STAGE_LABELS if deal else maps.LIFECYCLE_LABELS,
        created=tuple(created),
        modified=tuple(head.all((*MODIFIED, "updatedAt"))), dated=tuple(dated),
        close_date=head.first(("closedate", "Close Date")) if deal else None,
        closed_flag=head.first(("hs_is_closed", "Is closed")) if deal else None,
    )


def specs(p: Plan) -> list[EntitySpec]:
    """The entry-stage and the current-stage transitions (rows where they are set)."""
    return [EntitySpec("stage_transitions", [
        const("entity_type", p.entity_type), FieldSpec("entity_id", source=p.id_col),
        FieldSpec("to_stage", source=stage), FieldSpec("occurred_at", source=when),
        const("reconstructed", "true"), const("source", SOURCE),
    ], formats=formats("occurred_at"), where=stage)
        for stage, when in ((FIRST, FIRST_AT), (CURRENT, CURRENT_AT))]


def add_columns(batch: pa.RecordBatch, p: Plan) -> pa.RecordBatch:
    """``batch`` with the four reconstruction columns (null where nothing is rebuilt)."""
    n = batch.num_rows
    stage = t.null_where_blank(pc.utf8_trim_whitespace(
        t.map_values(batch.column(p.stage_col), p.labels)))
    created = t.coalesce([batch.column(c) for c in p.created], n)
    rebuild = pc.and_(pc.and_(pc.invert(_has_dates(batch, p.dated)), pc.is_valid(stage)),
                      pc.is_valid(created))
    advanced = pc.fill_null(pc.is_in(stage, value_set=pa.array(
        _DEAL_ADVANCED if p.deal else _LIFECYCLE_ADVANCED, pa.string())), False)
    entry = maps.DEAL_ENTRY if p.deal else maps.LIFECYCLE_ENTRY
    first = pc.if_else(advanced, pa.scalar(entry, pa.string()), stage)
    two = pc.and_(rebuild, advanced)
    columns = {
        FIRST: _where(rebuild, first), FIRST_AT: _where(rebuild, created),
        CURRENT: _where(two, stage), CURRENT_AT: _where(two, _current_at(batch, p, stage)),
    }
    for name, values in columns.items():
        batch = batch.append_column(name, values)
    return batch


def _has_dates(batch: pa.RecordBatch, dated: tuple[str, ...]) -> pa.Array:
    out = pa.array([False] * batch.num_rows, pa.bool_())
    for col in dated:
        out = pc.or_(out, pc.is_valid(t.null_where_blank(batch.column(col))))
    return out


def _current_at(batch: pa.RecordBatch, p: Plan, stage: pa.Array) -> pa.Array:
    """The close date of a closed deal, else the last modification, else the creation."""
    n = batch.num_rows
    candidates = [batch.column(c) for c in (*p.modified, *p.created)]
    if p.close_date is not None:
        closed = pc.fill_null(pc.is_in(stage, value_set=pa.array(
            list(maps.CLOSED_STAGES), pa.string())), False)
        if p.closed_flag is not None:
            closed = pc.or_(closed, t.is_true(batch.column(p.closed_flag)))
        candidates.insert(0, _where(closed, t.text(batch.column(p.close_date))))
    return t.coalesce(candidates, n)


def _where(mask: pa.Array, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, t.text(values), t.NULL_TEXT)
