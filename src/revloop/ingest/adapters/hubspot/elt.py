"""Tables of ELT tools: Fivetran's HubSpot connector and Airbyte's HubSpot source.

* Layout: ``--layout fivetran|airbyte``, or detected from the header (``_fivetran_*`` or
  ``property_*`` columns: Fivetran; ``_airbyte_*`` or ``properties_*``: Airbyte) or from a
  table name only Fivetran uses (``deal_stage``, ``deal_company``…).
* Deleted records (``_fivetran_deleted``, ``is_deleted``, ``isDeleted`` or ``archived``
  true) and older versions kept by Fivetran's history mode (``_fivetran_active`` false) are
  dropped before mapping: they are not in ``read``; the file's notices say how
  many were skipped.
* Associations live in their own tables. ``deal_contact`` becomes ``opportunity_contacts``;
  ``deal_company``, ``contact_company``, ``engagement_contact`` and ``engagement_company``
  are looked up when ``deal``, ``contact`` or ``engagement`` is imported from the same folder
  (the primary association — type 5 deal→company, 1 contact→company — first, else the first
  row): their own rows store nothing.
* ``deal_stage`` (Fivetran's deal stage history) becomes ``stage_transitions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from revloop.ingest.adapters.base import object_name
from revloop.ingest.adapters.hubspot import maps
from revloop.ingest.adapters.hubspot import transforms as t
from revloop.ingest.adapters.hubspot.header import Header
from revloop.ingest.adapters.hubspot.names import ALIASES
from revloop.ingest.adapters.hubspot.objects import SOURCE, const, fields, formats
from revloop.ingest.readers import ReadOptions, SourceFile, open_file
from revloop.ingest.spec import EntitySpec, FieldSpec

DELETED_FLAGS = ("_fivetran_deleted", "is_deleted", "isdeleted", "archived")
#: Flags whose *false* drops an object's row: Fivetran's history mode keeps every older
#: version of a record with ``_fivetran_active`` false; only the active one is the record.
#: (Not for ``deal_stage``, whose inactive rows are the earlier stages: the history itself.)
INACTIVE_FLAGS = frozenset({"_fivetran_active"})
OBJECT_DELETED_FLAGS = (*DELETED_FLAGS, *sorted(INACTIVE_FLAGS))


@dataclass(frozen=True)
class Lookup:
    """An association table read for another table's rows."""

    table: str  # the association table (sibling file)
    key: str  # its column naming this table's record
    value: str  # its column naming the associated record
    primary: str | None  # association type id of the primary association
    column: str  # the column added to this table's batches
    role: str  # "company" or "contact"


_ENGAGEMENT = (
    Lookup("engagement_contact", "engagement_id", "contact_id", None, "__hs_contact", "contact"),
    Lookup("engagement_company", "engagement_id", "company_id", None, "__hs_company", "company"),
)
LOOKUPS: dict[str, tuple[Lookup, ...]] = {
    "contacts": (Lookup("contact_company", "contact_id", "company_id", "1", "__hs_company",
                        "company"),),
    "deals": (Lookup("deal_company", "deal_id", "company_id", "5", "__hs_company", "company"),),
    "engagements": _ENGAGEMENT,
    **{a: _ENGAGEMENT for a in ALIASES.values() if a.startswith("engagement_")},
}


def detect_layout(src: SourceFile) -> str | None:
    """fivetran / airbyte from the header; None for a CRM export."""
    low = [c.strip().lower() for c in src.columns]
    if any(c.startswith(("_fivetran_", "property_")) for c in low):
        return "fivetran"
    if any(c.startswith(("_airbyte_", "properties_")) for c in low):
        return "airbyte"
    return None


def sibling(path: Path, table: str) -> Path | None:
    """The file of ``table`` in ``path``'s folder (any format), if there is one."""
    try:
        candidates = sorted(path.parent.iterdir())
    except OSError:
        return None
    for other in candidates:
        if other != path and other.is_file() and object_name(other) == table:
            return other
    return None


def load_lookup(path: Path, lookup: Lookup) -> dict[str, str]:
    """Record id → associated id, the primary association winning over the others."""
    src = open_file(path, ReadOptions())
    head = Header(src)
    key, value = head.need((lookup.key,), "key column"), head.need((lookup.value,), "id column")
    kind = head.first(("type_id",))
    out: dict[str, str] = {}
    for batch in src.batches():
        keys = t.text(batch.column(key)).to_pylist()
        values = t.text(batch.column(value)).to_pylist()
        kinds = (t.text(batch.column(kind)).to_pylist() if kind
                 else [None] * batch.num_rows)
        for k, v, ty in zip(keys, values, kinds, strict=True):
            if not k or not v:
                continue
            if lookup.primary is not None and (ty or "").strip() == lookup.primary:
                out[k.strip()] = v.strip()
            else:
                out.setdefault(k.strip(), v.strip())
    return out


def add_lookup(batch: pa.RecordBatch, id_col: str, column: str, table: dict[str, str]
               ) -> pa.RecordBatch:
    ids = t.text(batch.column(id_col)).to_pylist()
    found = [table.get(i.strip()) if i else None for i in ids]
    return batch.append_column(column, pa.array(found, pa.string()))


def drop_deleted(batch: pa.RecordBatch, flags: list[str], fresh: pa.Array
                 ) -> tuple[pa.RecordBatch, int]:
    """``batch`` without the rows a deletion flag marks; how many of the ``fresh`` rows (not
    seen by an earlier pass over the file) were dropped."""
    if not flags:
        return batch, 0
    deleted = pa.array([False] * batch.num_rows, pa.bool_())
    for col in flags:
        if col.strip().lower() in INACTIVE_FLAGS:
            flag = pc.utf8_lower(pc.utf8_trim_whitespace(t.text(batch.column(col))))
            deleted = pc.or_(deleted, pc.fill_null(pc.equal(flag, "false"), False))
        else:
            deleted = pc.or_(deleted, t.is_true(batch.column(col)))
    counted = pc.sum(pc.and_(deleted, fresh).cast(pa.int64())).as_py() or 0
    return batch.filter(pc.invert(deleted)), int(counted)


def deal_stage(head: Header) -> tuple[str, list[EntitySpec]]:
    """Fivetran's ``deal_stage``: one transition per row."""
    deal = head.need(("deal_id",), "deal_id column for HubSpot deal_stage")
    value = head.need(("value",), "value column (the stage) for HubSpot deal_stage")
    when = head.need(("date_entered",), "date_entered column for HubSpot deal_stage")
    return deal, [EntitySpec("stage_transitions", [
        const("entity_type", "opportunity"), FieldSpec("entity_id", source=deal),
        FieldSpec("to_stage", source=value, values=maps.DEAL_STAGE_LABELS),
        FieldSpec("occurred_at", source=when), const("reconstructed", "false"),
        const("source", SOURCE),
    ], formats=formats("occurred_at"), required=[deal, value, when])]


def deal_contact(head: Header) -> tuple[str, list[EntitySpec]]:
    """Fivetran's ``deal_contact``: the people on each deal."""
    deal = head.need(("deal_id",), "deal_id column for HubSpot deal_contact")
    contact = head.need(("contact_id",), "contact_id column for HubSpot deal_contact")
    return deal, [EntitySpec("opportunity_contacts", fields(
        FieldSpec("opportunity_id", source=deal), FieldSpec("contact_id", source=contact),
        const("source", SOURCE),
    ), required=[deal, contact])]


def association(head: Header, table: str) -> tuple[str, list[EntitySpec]]:
    """An association table on its own: nothing is stored from it (the adapter empties its
    batches), but the import needs an entity to report against."""
    key = head.need((f"{table.split('_')[0]}_id",), f"id column for HubSpot {table}")
    return key, [EntitySpec("opportunity_contacts", [
        FieldSpec("opportunity_id", source=key), FieldSpec("contact_id", source=key),
        const("source", SOURCE)])]


def association_notice(table: str, rows: int) -> str:
    owner = table.split("_")[0]
    if not any(table == lk.table for lookups in LOOKUPS.values() for lk in lookups):
        # engagement_deal: touchpoints have no deal, so no table reads it
        return (f"{table} is an association table revloop does not use (a touchpoint is "
                f"linked to its contact and company, not to a deal); its {rows} rows were "
                "not stored")
    return (f"{table} is an association table: it is read when the {owner} table is imported "
            f"from the same folder; nothing is stored from its own {rows} rows")


def deleted_notice(flags: list[str], rows: int) -> str:
    versions = any(f.strip().lower() in INACTIVE_FLAGS for f in flags)
    what = " or an older version" if versions else ""
    rows_were = (f"1 row deleted in HubSpot{what}" if rows == 1
                 else f"{rows} rows deleted in HubSpot{what}")
    skipped = "was skipped; it is" if rows == 1 else "were skipped; they are"
    why = " or ".join(f"{f} false" if f.strip().lower() in INACTIVE_FLAGS else f"{f} true"
                      for f in flags)
    return f"{rows_were} ({why}) {skipped} not counted in read"
