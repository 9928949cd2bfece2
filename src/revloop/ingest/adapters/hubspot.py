"""HubSpot CRM exports (CSV with internal property names as headers) to canonical entities.

Which object a file holds comes from its name (``contacts.csv``, ``company.csv``,
``deals-2024.csv``, ``engagements.csv``; singular or plural) or from ``--entity``. Each object
yields, primary entity first:

===========  ================================================================================
contacts     contacts (record_type ``contact``); stage_transitions (``contact``), one per
             non-empty ``hs_lifecyclestage_<stage>_date``; a ``first_touch`` touchpoint per
             contact with an ``hs_analytics_source``
companies    accounts; stage_transitions (``account``) from the same lifecycle date columns
deals        opportunities; stage_transitions (``opportunity``), one per non-empty
             ``hs_date_entered_<stage id>``
engagements  touchpoints
===========  ================================================================================

Decisions worth knowing:

* Ids: the id column is the first of the object's aliases the header has (contacts
  ``hs_object_id``, ``vid``, ``Record ID``, ``id``; companies ``companyId`` instead of
  ``vid``; deals ``dealId``; engagements ``engagement.id``/``engagement_id``). Header names
  are matched case-insensitively. No id column → :class:`InputFileError` naming the aliases.
  Other properties with aliases read the first one present and fall back, row by row, to the
  others where it is empty.
* Dates: every date/time column accepts epoch milliseconds (API dumps), ISO 8601
  (``2024-03-05T14:22:10.123Z``; zoned values become naive UTC) and ``2024-03-05 14:22``
  (UI exports, kept as written: HubSpot writes them in the portal's time zone). ``epoch_ms``
  is tried first: it is a cheap digit check, whereas ISO parsing of a digit-only column falls
  to Arrow's slow per-value path.
* Transitions keep HubSpot's stage names (``marketingqualifiedlead``, ``closedwon``) or stage
  ids (custom pipelines); the funnel maps them. The unpivot columns are found in the file's
  header, so custom stages come along. ``from_stage`` stays empty (the funnel derives it).
* First touch: ``touchpoint_id`` ``hs-first-<contact id>``; ``occurred_at`` is
  ``hs_analytics_first_timestamp``, falling back row by row to ``createdate`` where it is
  empty (or absent); ``channel`` is ``hs_analytics_source`` through :data:`SOURCE_CHANNELS`,
  a value that already names a canonical channel is kept and anything else becomes
  ``other``. ``hs_analytics_source_data_1``/``_2`` (the drill-down) go to ``properties``. The
  contact's ``lead_source`` keeps the raw HubSpot source. Note that HubSpot's ``OFFLINE``
  (mapped to ``events`` as asked) also covers imports, CRM-UI and API-created records.
* Deals: ``dealtype`` newbusiness/existingbusiness/renewal → new/expansion/renewal; any other
  type leaves ``opportunity_type`` empty (the row is still stored) and the raw ``dealtype`` is
  always kept in ``custom``, as is the raw ``hs_analytics_source`` (``source_channel`` is
  normalised as for first touches). ``hs_deal_stage_probability`` (0–1) becomes percent; a
  value above 1 is taken as a percent already. Without ``hs_is_closed``/``hs_is_closed_won``
  columns, ``is_closed``/``is_won`` come from the default pipeline's ``dealstage`` ids
  (``closedwon``, ``closedlost``, …; custom stage ids leave them empty). Association columns
  holding several ids (``123;456``, ``[123, 456]``) give their first id.
* Engagements: ``touch_type`` maps EMAIL→email, INCOMING_EMAIL→email_reply, CALL→call,
  MEETING→meeting, NOTE→note, TASK→task, other types lower-cased. ``channel`` is
  ``outbound_sales`` for EMAIL/CALL/MEETING (a rep reaching out, as Salesforce tasks),
  ``inbound_sales`` for INCOMING_EMAIL and ``sales`` for everything else (notes, tasks,
  unknown or missing type).
* Unmapped columns go to ``custom`` (``properties`` for engagements), empty values skipped.
* Required header columns: the id (every object) and, for engagements, a timestamp
  (``hs_timestamp``, ``timestamp``, ``engagement.timestamp``, ``hs_createdate``,
  ``createdate``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from revloop.errors import InputFileError
from revloop.ingest.adapters.base import Adapter, match_object
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec, FieldSpec, Transform, UnpivotSpec
from revloop.schema import CHANNELS, OPPORTUNITY_TYPES

SOURCE = "hubspot"

# epoch_ms first: see the module docstring. "iso" also reads "2024-03-05 14:22"; the strptime
# formats are there for whatever Arrow's ISO parser refuses.
DATE_FORMATS: tuple[str, ...] = (
    "epoch_ms", "iso", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d",
)

SOURCE_CHANNELS: dict[str, str | None] = {
    "ORGANIC_SEARCH": "organic_search",
    "PAID_SEARCH": "paid_search",
    "EMAIL_MARKETING": "email",
    "SOCIAL_MEDIA": "organic_social",
    "PAID_SOCIAL": "paid_social",
    "REFERRALS": "referral",
    "DIRECT_TRAFFIC": "direct",
    "OTHER_CAMPAIGNS": "other",
    "OFFLINE": "events",
    "AI_REFERRALS": "referral",
}
DEAL_TYPES: dict[str, str | None] = {
    "newbusiness": "new", "existingbusiness": "expansion", "renewal": "renewal",
}
ENGAGEMENT_TYPES: dict[str, str | None] = {
    "EMAIL": "email", "INCOMING_EMAIL": "email_reply", "CALL": "call", "MEETING": "meeting",
    "NOTE": "note", "TASK": "task",
}
ENGAGEMENT_CHANNELS: dict[str, str | None] = {
    "EMAIL": "outbound_sales", "CALL": "outbound_sales", "MEETING": "outbound_sales",
    "INCOMING_EMAIL": "inbound_sales",
}
# The default sales pipeline's stage ids: is the deal closed / won there?
_OPEN_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                "decisionmakerboughtin", "contractsent")
DEAL_CLOSED: dict[str, str | None] = {
    **dict.fromkeys(_OPEN_STAGES, "false"), "closedwon": "true", "closedlost": "true",
}
DEAL_WON: dict[str, str | None] = {
    **dict.fromkeys(_OPEN_STAGES, "false"), "closedwon": "true", "closedlost": "false",
}

LIFECYCLE_DATE = re.compile(r"^hs_lifecyclestage_(.+)_date$", re.IGNORECASE)
DEAL_STAGE_ENTERED = re.compile(r"^hs_date_entered_(.+)$", re.IGNORECASE)

CREATED = ("createdate",)
OWNER = ("hubspot_owner_id",)
CONTACT_COMPANY = ("associatedcompanyid", "associations.company", "associations.companies",
                   "associations.companyIds", "Associated Company IDs",
                   "Associated Company IDs (Primary)")
COMPANY_ID = (*CONTACT_COMPANY, "company_id", "companyId")  # deals and engagements
CONTACT_ID = ("associatedcontactid", "associations.contact", "associations.contacts",
              "associations.contactIds", "Associated Contact IDs", "contact_id", "contactId")
ENGAGEMENT_TIMES = ("hs_timestamp", "timestamp", "engagement.timestamp", "hs_createdate",
                    "createdate")
ENGAGEMENT_KINDS = ("hs_engagement_type", "type", "engagement.type")


# -- transforms (text in, text out; coerce types the result) --------------------------------

def _text(a: pa.Array) -> pa.Array:
    return a if pa.types.is_string(a.type) else a.cast(pa.string())


def _null_where_blank(a: pa.Array) -> pa.Array:
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(a), ""), True)
    return pc.if_else(blank, pa.scalar(None, pa.string()), a)


def _percent(a: pa.Array) -> pa.Array:
    """HubSpot probabilities are 0–1; revloop keeps percent (0–100). Non-numbers pass through
    (coerce quarantines them); a value above 1 is already a percent."""
    text = pc.utf8_trim_whitespace(_text(a))
    numeric = pc.fill_null(pc.match_substring_regex(text, r"^[-+]?(\d+(\.\d*)?|\.\d+)$"), False)
    number = pc.if_else(numeric, text, pa.scalar(None, pa.string())).cast(pa.float64())
    scaled = pc.if_else(pc.greater(number, 1.0), number, pc.round(pc.multiply(number, 100.0), 6))
    return pc.if_else(numeric, scaled.cast(pa.string()), _text(a))


def _first_id(a: pa.Array) -> pa.Array:
    """``123;456`` / ``[123, 456]`` / ``"123"`` → ``123`` (association columns)."""
    first = pc.replace_substring_regex(
        _text(a), r"^[\s\[\]\"']*([^;,\s\[\]\"']*).*$", r"\1")
    return _null_where_blank(first)


_CHANNELS = pa.array(list(CHANNELS), pa.string())


def _channel(a: pa.Array) -> pa.Array:
    """After :data:`SOURCE_CHANNELS`: a canonical channel name stays, anything else is
    ``other``; empty stays empty."""
    text = _null_where_blank(_text(a))
    snake = pc.replace_substring_regex(
        pc.replace_substring_regex(pc.utf8_lower(pc.utf8_trim_whitespace(text)),
                                   r"[^a-z0-9]+", "_"), r"^_+|_+$", "")
    known = pc.is_in(snake, value_set=_CHANNELS)
    return pc.if_else(known, snake, pc.if_else(pc.is_null(text), text, "other"))


def _sales_channel(a: pa.Array) -> pa.Array:
    """After :data:`ENGAGEMENT_CHANNELS`: outbound_sales / inbound_sales, else ``sales``."""
    directed = pc.fill_null(pc.is_in(_text(a), value_set=pa.array(
        ["outbound_sales", "inbound_sales"], pa.string())), False)
    return pc.if_else(directed, _text(a), pa.scalar("sales", pa.string()))


def _only(*allowed: str) -> Transform:
    """After a value map: keep ``allowed`` values, empty anything else."""
    value_set = pa.array(list(allowed), pa.string())

    def keep(a: pa.Array) -> pa.Array:
        text = _text(a)
        return pc.if_else(pc.fill_null(pc.is_in(text, value_set=value_set), False), text,
                          pa.scalar(None, pa.string()))
    return keep


def _lower(a: pa.Array) -> pa.Array:
    return pc.utf8_lower(pc.utf8_trim_whitespace(_text(a)))


# -- header helpers ---------------------------------------------------------------------------

class _Header:
    """The file's columns, looked up case-insensitively by HubSpot property name."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.by_lower: dict[str, str] = {}
        for name in src.columns:
            self.by_lower.setdefault(name.strip().lower(), name)

    def all(self, names: Sequence[str]) -> list[str]:
        """The header's spelling of each of ``names`` present, in ``names`` order."""
        found = [self.by_lower.get(n.lower()) for n in names]
        return list(dict.fromkeys(f for f in found if f is not None))

    def first(self, names: Sequence[str]) -> str | None:
        found = self.all(names)
        return found[0] if found else None

    def need(self, names: Sequence[str], what: str) -> str:
        """The first of ``names`` present; InputFileError naming them all otherwise."""
        found = self.first(names)
        if found is None:
            shown = self.src.columns[:30]
            raise InputFileError(
                str(self.src.path),
                f"no {what}: expected one of {', '.join(repr(n) for n in names)}; "
                f"the header has: {', '.join(shown)}"
                f"{' …' if len(self.src.columns) > 30 else ''}",
                code="missing_column",
            )
        return found

    def field(self, target: str, names: Sequence[str], *,
              values: dict[str, str | None] | None = None,
              transform: str | Transform | None = None) -> FieldSpec | None:
        """``target`` from the first of ``names`` present, falling back row by row to the
        others present; None when the header has none of them."""
        found = self.all(names)
        if not found:
            return None
        return FieldSpec(target=target, source=found[0], fallback=tuple(found[1:]),
                         values=values, transform=transform)

    def matching(self, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
        """(column, captured suffix) for every header column matching ``pattern``."""
        out = []
        for name in self.src.columns:
            m = pattern.match(name.strip())
            if m:
                out.append((name, m.group(1)))
        return out


def _fields(*items: FieldSpec | None) -> list[FieldSpec]:
    return [f for f in items if f is not None]


def _const(target: str, value: str) -> FieldSpec:
    return FieldSpec(target=target, const=value)


def _formats(*columns: str) -> dict[str, Sequence[str]]:
    return dict.fromkeys(columns, DATE_FORMATS)


def _transitions(head: _Header, pattern: re.Pattern[str], entity_type: str, id_col: str
                 ) -> EntitySpec | None:
    """One stage_transitions row per non-empty stage-date column of the header."""
    unpivot = [UnpivotSpec(column=col, consts={"to_stage": stage}, target="occurred_at")
               for col, stage in head.matching(pattern)]
    if not unpivot:
        return None
    return EntitySpec(
        "stage_transitions",
        [_const("entity_type", entity_type), FieldSpec("entity_id", source=id_col),
         _const("source", SOURCE)],
        formats=_formats("occurred_at"), unpivot=unpivot,
    )


def _used(specs: Sequence[EntitySpec]) -> set[str]:
    """Source columns the specs' fields, unpivots and filters read."""
    used: set[str] = set()
    for spec in specs:
        used |= {c for f in spec.fields for c in f.source_columns()}
        used |= {u.column for u in spec.unpivot}
        if spec.where:
            used.add(spec.where)
    return used


# -- the objects ------------------------------------------------------------------------------

def _contacts(head: _Header, id_col: str) -> list[EntitySpec | None]:
    contact = EntitySpec("contacts", _fields(
        FieldSpec("contact_id", source=id_col), _const("record_type", "contact"),
        head.field("account_id", CONTACT_COMPANY, transform=_first_id),
        head.field("email", ("email",)), head.field("first_name", ("firstname",)),
        head.field("last_name", ("lastname",)), head.field("company", ("company",)),
        head.field("title", ("jobtitle",)), head.field("seniority", ("hs_seniority",)),
        head.field("function", ("hs_job_function", "job_function")),
        head.field("country", ("country",)),
        head.field("lifecycle_stage", ("lifecyclestage",)),
        head.field("lead_status", ("hs_lead_status",)), head.field("owner_id", OWNER),
        head.field("lead_source", ("hs_analytics_source",)),
        head.field("created_at", CREATED),
        head.field("is_unsubscribed", ("hs_email_optout",)), _const("source", SOURCE),
    ), formats=_formats("created_at"), required=[id_col])
    return [contact, _transitions(head, LIFECYCLE_DATE, "contact", id_col),
            _first_touch(head, id_col)]


def _first_touch(head: _Header, id_col: str) -> EntitySpec | None:
    source = head.first(("hs_analytics_source",))
    when = head.field("occurred_at", ("hs_analytics_first_timestamp", *CREATED))
    if source is None or when is None:
        return None
    drill = head.all(("hs_analytics_source_data_1", "hs_analytics_source_data_2"))
    return EntitySpec("touchpoints", _fields(
        FieldSpec("touchpoint_id", template=f"hs-first-{{{id_col}}}"), when,
        FieldSpec("contact_id", source=id_col),
        head.field("account_id", CONTACT_COMPANY, transform=_first_id),
        _const("touch_type", "first_touch"),
        FieldSpec("channel", source=source, values=SOURCE_CHANNELS, transform=_channel),
        head.field("url", ("hs_analytics_first_url",)), _const("source", SOURCE),
    ), custom=drill, formats=_formats("occurred_at"), where=source)


def _companies(head: _Header, id_col: str) -> list[EntitySpec | None]:
    account = EntitySpec("accounts", _fields(
        FieldSpec("account_id", source=id_col), head.field("name", ("name",)),
        head.field("domain", ("domain", "website"), transform="domain"),
        head.field("industry", ("industry",)),
        head.field("employees", ("numberofemployees",)),
        head.field("annual_revenue", ("annualrevenue",)), head.field("country", ("country",)),
        head.field("region", ("state",)), head.field("owner_id", OWNER),
        head.field("parent_account_id", ("hs_parent_company_id",)),
        head.field("created_at", CREATED), _const("source", SOURCE),
    ), formats=_formats("created_at"), required=[id_col])
    return [account, _transitions(head, LIFECYCLE_DATE, "account", id_col)]


def _deals(head: _Header, id_col: str) -> list[EntitySpec | None]:
    stage = head.first(("dealstage",))
    is_closed = head.field("is_closed", ("hs_is_closed",))
    is_won = head.field("is_won", ("hs_is_closed_won",))
    if is_closed is None and stage is not None:
        is_closed = FieldSpec("is_closed", source=stage, values=DEAL_CLOSED,
                              transform=_only("true", "false"))
    if is_won is None and stage is not None:
        is_won = FieldSpec("is_won", source=stage, values=DEAL_WON,
                           transform=_only("true", "false"))
    deal = EntitySpec("opportunities", _fields(
        FieldSpec("opportunity_id", source=id_col),
        head.field("account_id", COMPANY_ID, transform=_first_id),
        head.field("name", ("dealname",)), head.field("amount", ("amount",)),
        head.field("currency", ("deal_currency_code",)), head.field("stage", ("dealstage",)),
        head.field("opportunity_type", ("dealtype",), values=DEAL_TYPES,
                   transform=_only(*OPPORTUNITY_TYPES)),
        head.field("source_channel", ("hs_analytics_source",), values=SOURCE_CHANNELS,
                   transform=_channel),
        head.field("owner_id", OWNER),
        head.field("probability", ("hs_deal_stage_probability",), transform=_percent),
        head.field("created_at", CREATED), head.field("close_date", ("closedate",)),
        is_closed, is_won, head.field("lost_reason", ("closed_lost_reason",)),
        _const("source", SOURCE),
    ), formats=_formats("created_at", "close_date"), required=[id_col])
    return [deal, _transitions(head, DEAL_STAGE_ENTERED, "opportunity", id_col)]


def _engagements(head: _Header, id_col: str) -> list[EntitySpec | None]:
    time_col = head.need(ENGAGEMENT_TIMES, "timestamp column for HubSpot engagements")
    when = head.field("occurred_at", ENGAGEMENT_TIMES)
    kind = head.first(ENGAGEMENT_KINDS)
    channel = (_const("channel", "sales") if kind is None else FieldSpec(
        "channel", source=kind, values=ENGAGEMENT_CHANNELS, transform=_sales_channel))
    touch = EntitySpec("touchpoints", _fields(
        FieldSpec("touchpoint_id", source=id_col), when,
        None if kind is None else FieldSpec("touch_type", source=kind,
                                            values=ENGAGEMENT_TYPES, transform=_lower),
        channel,
        head.field("contact_id", CONTACT_ID, transform=_first_id),
        head.field("account_id", COMPANY_ID, transform=_first_id),
        _const("source", SOURCE),
    ), formats=_formats("occurred_at"), required=[id_col, time_col])
    return [touch]


@dataclass(frozen=True)
class HubSpotObject:
    """How one HubSpot object's export maps to canonical entities."""

    name: str
    ids: tuple[str, ...]  # id column aliases, preferred first
    build: Callable[[_Header, str], list[EntitySpec | None]]
    keep: tuple[str, ...] = ()  # mapped lossily: also copied into custom


OBJECTS: tuple[HubSpotObject, ...] = (
    HubSpotObject("contacts", ("hs_object_id", "vid", "Record ID", "id"), _contacts),
    HubSpotObject("companies", ("hs_object_id", "companyId", "Record ID", "id"), _companies),
    HubSpotObject("deals", ("hs_object_id", "dealId", "Record ID", "id"), _deals,
                  keep=("dealtype", "hs_analytics_source")),
    HubSpotObject("engagements", ("hs_object_id", "engagement.id", "engagement_id", "id",
                                  "Record ID"), _engagements),
)
OBJECT_BY_NAME: dict[str, HubSpotObject] = {o.name: o for o in OBJECTS}
ALIASES: dict[str, str] = {
    "contacts": "contacts", "contact": "contacts",
    "companies": "companies", "company": "companies",
    "deals": "deals", "deal": "deals",
    "engagements": "engagements", "engagement": "engagements",
}


class HubSpotAdapter(Adapter):
    """HubSpot contacts, companies, deals and engagements exports; see the module docstring
    for the mapping."""

    source = SOURCE

    def __init__(self, entity: str | None = None, layout: str | None = None) -> None:
        self.entity = entity
        self.layout = layout  # "fivetran" / "airbyte": an ELT tool's table layout; None: guess

    def object_for(self, src: SourceFile) -> HubSpotObject:
        """The HubSpot object a file holds (from ``--entity`` or the file name)."""
        return OBJECT_BY_NAME[match_object(src.path, ALIASES, self.entity, "HubSpot")]

    def specs_for(self, src: SourceFile) -> list[EntitySpec]:
        obj = self.object_for(src)
        head = _Header(src)
        id_col = head.need(obj.ids, f"id column for HubSpot {obj.name}")
        specs = [s for s in obj.build(head, id_col) if s is not None]
        used = _used(specs)
        keep = set(head.all(obj.keep))
        specs[0].custom = [c for c in src.columns if c not in used or c in keep]
        return specs
