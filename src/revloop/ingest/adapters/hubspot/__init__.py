"""HubSpot exports — UI exports, API/CRM v3 exports, Fivetran and Airbyte tables — to
canonical entities. All forms of the same records give the same canonical rows.

Which table a file holds comes from ``--entity`` or its name (:mod:`.names`: ``contacts.csv``,
``all-deals.csv``, ``hubspot-crm-exports-my-contacts-2024-03-05-1.csv``, Fivetran's
``contact``/``deal_stage``, Airbyte's ``deals``/``engagements_calls``). Each object yields,
primary entity first:

============================  ========================================================
contacts                      contacts (record_type ``contact``); stage_transitions
                              (``contact``) from the lifecycle stage dates; a
                              ``first_touch`` touchpoint per contact with a source
companies                     accounts; stage_transitions (``account``)
deals                         opportunities; stage_transitions (``opportunity``)
engagements, engagement_call  touchpoints
…, engagements_calls …
deal_stage (Fivetran)         stage_transitions (``opportunity``), one per history row
deal_contact (Fivetran)       opportunity_contacts
deal_company, contact_company nothing on their own: looked up for deals / contacts
engagement_contact/_company   (and engagements) in the same folder (:mod:`.elt`)
============================  ========================================================

Decisions worth knowing:

* Three spellings of one property: its internal name (``lifecyclestage``), its label as the
  UI export writes it (``Lifecycle Stage``) and, in ELT tables, the prefixed name
  (Fivetran ``property_lifecyclestage``, Airbyte ``properties_lifecyclestage``; also
  Fivetran's ``deal_pipeline_stage_id``/``deal_pipeline_id``/``owner_id`` and Airbyte's
  ``createdAt``/``updatedAt``). Headers match case-insensitively. The property lists are in
  :mod:`.objects`.
* UI exports write labels as values too: lifecycle stages (``Marketing Qualified Lead``),
  default deal stages (``Closed Won``), Original Traffic Source (``Paid Search``,
  ``Offline Sources``, ``AI Referrals``…), deal types (``New Business``) and lead statuses
  become the internal values (:mod:`.maps`), so the stored rows and the funnel's value maps
  are the same for both forms. Labels no map knows (custom stages) are kept as written.
* Owners: the UI export writes the owner's NAME (``Contact owner``, ``Deal owner``,
  ``Company owner``); with no owner id in the file, ``owner_id`` is that name.
* Ids: the first of the object's id aliases present (``hs_object_id``, ``vid``/``companyId``/
  ``dealId``, ``Record ID``, ``id``, Fivetran ``deal_id``). No id → ``missing_column``.
  Association columns holding several ids (``123;456``, ``[123, 456]``) give their first id;
  ``Associated Company IDs (Primary)`` is preferred over ``Associated Company IDs``.
* Dates: epoch milliseconds, ISO 8601 (zoned values become naive UTC) and the UI export's
  ``2024-03-05 14:22`` (kept as written: HubSpot writes them in the portal's time zone).
* Stage dates: lifecycle ``hs_lifecyclestage_<stage>_date`` (UI ``Became a … Date``, the
  first time), then ``hs_v2_date_entered_<stage>``/``hs_date_entered_<stage>`` (UI ``Date
  entered "<Stage> (Lifecycle Stage Pipeline)"``); deals ``hs_v2_date_entered_<stage id>``/
  ``hs_date_entered_<stage id>`` (UI ``Date entered "Closed Won (Sales Pipeline)"``). Per
  stage the first of those families present gives the date. A label of the default sales
  pipeline becomes its stage id; the same label in another pipeline (``Closed Won
  (Renewals Pipeline)``) is kept as written, a stage of its own. ``Date exited …`` columns
  stay in ``custom``. ``from_stage`` stays empty; real transitions have
  ``reconstructed = false``.
* No stage date for a record (an API export with ``createdate`` and ``lifecyclestage`` /
  ``dealstage`` only, a UI export of a view without the date columns): its history is
  reconstructed, row by row — the entry stage (``lead`` / ``appointmentscheduled``) at
  ``createdate`` and the current stage at the close date (closed deals), else the last
  modification, else ``createdate``, with ``reconstructed = true`` (:mod:`.reconstruct`).
  ``revloop funnel`` works on such exports. Fivetran deals are not reconstructed when a
  ``deal_stage`` table sits next to ``deal``: it holds their real history.
* First touch: ``touchpoint_id`` ``hs-first-<contact id>``; ``occurred_at`` is
  ``hs_analytics_first_timestamp`` (``Time First Seen``), else ``createdate``; ``channel``
  from the source through :data:`maps.SOURCE_CHANNELS` (a canonical channel name stays,
  anything else is ``other``; ``OFFLINE`` → ``events``). The drill-downs go to
  ``properties``; the contact's ``lead_source`` keeps the internal source value.
* Deals: ``dealtype`` newbusiness/existingbusiness/renewal → new/expansion/renewal (other
  types: empty, the raw type kept in ``custom``, as is the raw source). Probability 0–1
  becomes percent. Without ``hs_is_closed``/``hs_is_closed_won`` (``Is closed``,
  ``Is Closed Won``), the default pipeline's stage decides ``is_closed``/``is_won``.
* Engagements: time from ``hs_timestamp`` (UI ``Activity date``), ``timestamp``…;
  EMAIL→email, INCOMING_EMAIL→email_reply, CALL→call, MEETING→meeting, NOTE→note,
  TASK→task, other types lower-cased; channel ``outbound_sales`` (EMAIL, CALL,
  MEETING), ``inbound_sales`` (INCOMING_EMAIL), else ``sales``. A table of one type
  (Fivetran ``engagement_call``, Airbyte ``engagements_calls``) gives that type.
* ``custom`` (``properties`` for touchpoints): unmapped columns, empty values skipped; a
  label the export repeats (the reader names the copies ``Label (2)``…) is kept in
  ``custom`` under each name, the first copy also mapped. ELT bookkeeping columns
  (``_fivetran_*``, ``_airbyte_*``) and Airbyte's ``properties`` JSON (when its flattened
  ``properties_*`` columns are there) are left out.
* Deleted ELT rows are skipped and reported in the file's notices (:mod:`.elt`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from revloop.ingest.adapters.base import Adapter, object_name
from revloop.ingest.adapters.hubspot import elt, names, objects, reconstruct
from revloop.ingest.adapters.hubspot.header import Header
from revloop.ingest.adapters.hubspot.maps import (
    DEAL_TYPES,
    ENGAGEMENT_CHANNELS,
    ENGAGEMENT_TYPES,
    SOURCE_CHANNELS,
)
from revloop.ingest.adapters.hubspot.objects import DATE_FORMATS, SOURCE, Build, Extras
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec

__all__ = ["DATE_FORMATS", "DEAL_TYPES", "ENGAGEMENT_CHANNELS", "ENGAGEMENT_TYPES", "OBJECTS",
           "SOURCE", "SOURCE_CHANNELS", "HubSpotAdapter", "HubSpotObject"]


@dataclass(frozen=True)
class HubSpotObject:
    """How one HubSpot object's table maps to canonical entities."""

    name: str
    ids: tuple[str, ...]  # id column aliases, preferred first
    build: Build
    keep: tuple[str, ...] = ()  # mapped lossily: also copied into custom
    entity_type: str | None = None  # of its stage transitions (None: it has none)


OBJECTS: tuple[HubSpotObject, ...] = (
    HubSpotObject("contacts", ("hs_object_id", "vid", "Record ID", "id"), objects.contacts,
                  entity_type="contact"),
    HubSpotObject("companies", ("hs_object_id", "companyId", "Record ID", "id"),
                  objects.companies, entity_type="account"),
    HubSpotObject("deals", ("hs_object_id", "dealId", "Record ID", "id", "deal_id"),
                  objects.deals, keep=("dealtype", "Deal Type", *objects.SOURCES[:2]),
                  entity_type="opportunity"),
    HubSpotObject("engagements", ("hs_object_id", "engagement.id", "engagement_id", "id",
                                  "Record ID"), objects.engagements),
    *(HubSpotObject(f"engagement_{k}", ("engagement_id", "hs_object_id", "id", "Record ID"),
                    objects.engagement_of_type(k)) for k in names.ENGAGEMENT_KINDS),
)
OBJECT_BY_NAME: dict[str, HubSpotObject] = {o.name: o for o in OBJECTS}


@dataclass
class _FileState:
    """What :meth:`HubSpotAdapter.prepare` does to one file's batches."""

    src: SourceFile
    id_col: str
    deleted: list[str] = field(default_factory=list)  # deletion flag columns
    association: str | None = None  # an association table: nothing stored
    lookups: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    rebuild: reconstruct.Plan | None = None
    deleted_rows: int = 0
    association_rows: int = 0
    notices: dict[str, int] = field(default_factory=dict)  # kind → index in src.notices
    seen: int = 0  # the last line counted: a second pass (the date pre-pass) counts nothing

    def fresh(self, batch: pa.RecordBatch) -> pa.Array:
        """Rows not seen by an earlier pass over the file (rows come in line order)."""
        lines = batch.column("_line")
        out = pc.greater(lines, self.seen)
        if len(lines):
            self.seen = max(self.seen, int(pc.max(lines).as_py()))
        return out


class HubSpotAdapter(Adapter):
    """HubSpot CRM, Fivetran and Airbyte tables; see the package docstring for the mapping."""

    source = SOURCE

    def __init__(self, entity: str | None = None, layout: str | None = None) -> None:
        self.entity = entity
        self.layout = layout  # "fivetran" / "airbyte": an ELT tool's table layout; None: guess
        self._files: dict[Path, _FileState] = {}

    def object_for(self, src: SourceFile) -> HubSpotObject:
        """The HubSpot object a file holds (from ``--entity`` or the file name)."""
        return OBJECT_BY_NAME[names.table_of(src.path, self.entity)]

    def specs_for(self, src: SourceFile) -> list[EntitySpec]:
        table = names.table_of(src.path, self.entity)
        layout = (self.layout or names.layout_of_table(table, object_name(src.path))
                  or elt.detect_layout(src))
        head = Header(src, layout)
        if table in OBJECT_BY_NAME:
            return self._object_specs(src, head, OBJECT_BY_NAME[table])
        if table == "deal_stage":
            id_col, specs = elt.deal_stage(head)
        elif table == "deal_contact":
            id_col, specs = elt.deal_contact(head)
        else:
            id_col, specs = elt.association(head, table)
        state = _FileState(src, id_col, deleted=head.all(elt.DELETED_FLAGS))
        state.association = table if table in names.ASSOCIATIONS else None
        self._files[src.path] = state
        return specs

    def _object_specs(self, src: SourceFile, head: Header, obj: HubSpotObject
                      ) -> list[EntitySpec]:
        id_col = head.need(obj.ids, f"id column for HubSpot {obj.name}")
        state = _FileState(src, id_col, deleted=head.all(elt.OBJECT_DELETED_FLAGS))
        extras = self._extras(src, head, obj, state)
        specs = [s for s in obj.build(head, id_col, extras) if s is not None]
        used = _used(specs)
        keep = set(head.all(obj.keep)) | head.copies()
        skip = set(head.meta()) | set(state.deleted) | _airbyte_json(head)
        specs[0].custom = [c for c in src.columns
                           if (c not in used or c in keep) and c not in skip]
        state.rebuild = self._rebuild_plan(src, head, obj, id_col)
        if state.rebuild is not None:
            specs += reconstruct.specs(state.rebuild)
        self._files[src.path] = state
        return specs

    def _extras(self, src: SourceFile, head: Header, obj: HubSpotObject, state: _FileState
                ) -> Extras:
        """Association look-ups from sibling tables, and Airbyte's association columns."""
        extras = Extras()
        for lookup in elt.LOOKUPS.get(obj.name, ()):
            other = elt.sibling(src.path, lookup.table)
            if other is not None:
                state.lookups.append((lookup.column, elt.load_lookup(other, lookup)))
                getattr(extras, lookup.role).append(lookup.column)
        if head.layout == "airbyte":
            extras.company += head.all(("companies",))
            extras.contact += head.all(("contacts",))
        return extras

    def _rebuild_plan(self, src: SourceFile, head: Header, obj: HubSpotObject, id_col: str
                      ) -> reconstruct.Plan | None:
        if obj.entity_type is None:
            return None
        if obj.name == "deals" and elt.sibling(src.path, "deal_stage") is not None:
            return None  # Fivetran's deal_stage table holds the real history
        deal = obj.name == "deals"
        dated = objects.deal_dates(head) if deal else objects.lifecycle_dates(head)
        return reconstruct.plan(head, obj.entity_type, id_col, objects.stage_of(head, obj.name),
                                [column for _, column in dated])

    def prepare(self, path: Path, batch: pa.RecordBatch) -> pa.RecordBatch:
        state = self._files.get(path)
        if state is None:
            return batch
        fresh = state.fresh(batch)
        batch, dropped = elt.drop_deleted(batch, state.deleted, fresh)
        if dropped:
            state.deleted_rows += dropped
            self._note(state, "deleted", elt.deleted_notice(state.deleted, state.deleted_rows))
        if state.association is not None:
            state.association_rows += int(pc.sum(fresh.cast(pa.int64())).as_py() or 0) - dropped
            self._note(state, "association",
                       elt.association_notice(state.association, state.association_rows))
            return batch.slice(0, 0)
        for column, table in state.lookups:
            batch = elt.add_lookup(batch, state.id_col, column, table)
        if state.rebuild is not None:
            batch = reconstruct.add_columns(batch, state.rebuild)
        return batch

    @staticmethod
    def _note(state: _FileState, kind: str, text: str) -> None:
        """Set the file's notice of ``kind`` (updated as batches are read)."""
        if kind not in state.notices:
            state.notices[kind] = len(state.src.notices)
            state.src.notices.append(text)
        else:
            state.src.notices[state.notices[kind]] = text


def _used(specs: list[EntitySpec]) -> set[str]:
    """Source columns the specs' fields, unpivots and filters read (not their custom)."""
    used: set[str] = set()
    for spec in specs:
        used |= {c for f in spec.fields for c in f.source_columns()}
        used |= {u.column for u in spec.unpivot}
        if spec.where:
            used.add(spec.where)
    return used


def _airbyte_json(head: Header) -> set[str]:
    """Airbyte's ``properties`` object column, when its flattened columns are there too (a
    notice when they are not: the properties inside the object are not mapped)."""
    found = set(head.all(("properties",)))
    if head.layout != "airbyte" or not found:
        return set()
    if any(c.strip().lower().startswith("properties_") for c in head.src.columns):
        return found
    head.src.notices.append(
        "Airbyte's 'properties' column is a JSON object and the file has no flattened "
        "properties_<name> columns: the properties are kept in custom, not mapped; sync with "
        "flattened columns (or unpack the object) to map them")
    return set()
