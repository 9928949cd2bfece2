"""Salesforce data-export / Data Loader CSV files, with standard API field names.

Which object a file holds comes from its name (``Lead.csv``, ``leads.csv``,
``Opportunity_2024.csv``, ``OpportunityHistory.csv``, ``campaign_members.csv`` …) or from
``--entity`` (the object's API name, any case). Each object yields, primary entity first:

==========================  ==============================================================
Lead                        contacts (record_type ``lead``) + stage_transitions (``lead``)
Contact                     contacts (record_type ``contact``)
Account                     accounts
Opportunity                 opportunities
OpportunityHistory          stage_transitions (``opportunity``)
OpportunityContactRole      opportunity_contacts
Campaign                    campaigns
CampaignMember              campaign_members
Task, Event                 touchpoints (channel ``outbound_sales``)
==========================  ==============================================================

Source columns with no canonical home go to ``custom`` (``properties`` for touchpoints);
entities without such a bag (stage_transitions, opportunity_contacts, campaign_members) drop
them. Decisions worth knowing:

* Dates: Salesforce writes ``2024-03-05T14:22:10.000+0000`` / ``…Z`` and ``2024-03-05``; the
  default ``iso`` format parses all of them (zoned values become naive UTC).
* Lead ``converted_at`` is ``ConvertedDate`` when ``IsConverted`` is true (or absent).
  ``ConvertedDate`` is a plain date: when it is on or before the day of ``CreatedDate`` the
  lead's ``CreatedDate`` is used instead, so a conversion never precedes the lead's creation.
* Lead transitions: ``inquiry`` at ``CreatedDate`` for every lead, ``converted`` at
  ``converted_at`` for converted leads. ``from_stage`` stays empty (the funnel derives it).
* OpportunityHistory holds one row per save that changed stage, amount, probability or close
  date; every row is kept (a repeat of the same stage is an amount/close-date snapshot).
* Opportunity ``Type`` maps to new / expansion / renewal; any other value (e.g.
  ``Existing Customer - Downgrade``) leaves ``opportunity_type`` empty, and the raw ``Type``
  is always kept in ``custom``. ``lost_reason`` is ``Loss_Reason__c``, else ``LossReason``.
* Campaign ``channel`` maps the standard campaign types; another type that already names a
  canonical channel (``Paid Search`` → ``paid_search``) keeps it, anything else is ``other``.
* CampaignMember ``contact_id`` is ``ContactId``, else ``LeadId`` (a converted lead's member
  row carries both; the contact wins).
* Task/Event ``occurred_at`` is the first non-empty of: Task ``CompletedDateTime``,
  ``ActivityDate``, ``CreatedDate``; Event ``ActivityDateTime``, ``StartDateTime``,
  ``ActivityDate``, ``CreatedDate``. Task ``touch_type`` is ``call`` (TaskSubtype or Type
  Call), ``email`` (TaskSubtype Email/ListEmail or Type Email), else ``task``; Events are
  ``meeting``. ``WhoId`` (a lead or contact) is the ``contact_id``. Open and future tasks
  are imported too (their ``Status`` / ``IsClosed`` are in ``properties``).
* Required header columns: ``Id`` for the objects keyed by it (Lead also ``CreatedDate``);
  OpportunityHistory ``OpportunityId``, ``StageName``, ``CreatedDate``; OpportunityContactRole
  ``OpportunityId``, ``ContactId``; CampaignMember ``CampaignId`` and ``ContactId`` or
  ``LeadId``; Task/Event ``Id`` and one of their date columns.

Values computed from several source columns (conversion time, lost reason, member id,
activity time and type, and the JSON object of the unmapped columns) are added to each batch
by :meth:`SalesforceAdapter.prepare` as ``__sf_*`` columns, which the specs then read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from revloop.errors import InputFileError
from revloop.ingest.adapters.base import Adapter, match_object
from revloop.ingest.coerce import json_objects
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec, FieldSpec, Transform, UnpivotSpec
from revloop.schema import CHANNELS, OPPORTUNITY_TYPES

SOURCE = "salesforce"

# Columns prepare() adds to each batch (values computed from several source columns).
CREATED_AT = "__sf_created_at"  # CreatedDate as text, so both lead transitions share a type
CONVERTED_AT = "__sf_converted_at"
LOST_REASON = "__sf_lost_reason"
MEMBER_ID = "__sf_member_id"
OCCURRED_AT = "__sf_occurred_at"
TOUCH_TYPE = "__sf_touch_type"
EXTRA = "__sf_extra"  # the unmapped columns as one JSON object (→ custom / properties)

_TRUE = pa.array(["true", "t", "yes", "y", "1"], pa.string())

OPPORTUNITY_TYPE_VALUES: dict[str, str | None] = {
    "New Business": "new",
    "New Customer": "new",
    "Existing Customer - Upgrade": "expansion",
    "Existing Customer - Expansion": "expansion",
    "Upgrade": "expansion",
    "Expansion": "expansion",
    "Existing Customer - Replacement": "renewal",
    "Existing Customer - Renewal": "renewal",
    "Renewal": "renewal",
}

CAMPAIGN_CHANNELS: dict[str, str | None] = {
    "Webinar": "webinar",
    "Email": "email",
    "Trade Show": "events",
    "Conference": "events",
    "Seminar / Conference": "events",
    "Event": "events",
    "Events": "events",
    "Advertisement": "display",
    "Banner Ads": "display",
    "Direct Mail": "other",
    "Partners": "partner",
    "Partner": "partner",
    "Referral Program": "referral",
    "Telemarketing": "outbound_sales",
    "Public Relations": "other",
    "Content Syndication": "content_syndication",
    "Other": "other",
}


# -- transforms -----------------------------------------------------------------------------

def _null_text(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def _blank_to_null(a: pa.Array) -> pa.Array:
    text = a if pa.types.is_string(a.type) else a.cast(pa.string())
    return pc.if_else(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True),
                      pa.scalar(None, pa.string()), text)


def _known_opportunity_type(a: pa.Array) -> pa.Array:
    """After the value map: keep new/renewal/expansion, empty anything else."""
    allowed = pa.array(list(OPPORTUNITY_TYPES), pa.string())
    return pc.if_else(pc.is_in(a, value_set=allowed), a, pa.scalar(None, pa.string()))


def _campaign_channel(a: pa.Array) -> pa.Array:
    """After the value map: a canonical channel name stays, other types become ``other``."""
    text = _blank_to_null(a)
    snake = pc.replace_substring_regex(
        pc.replace_substring_regex(pc.utf8_lower(pc.utf8_trim_whitespace(text)),
                                   r"[^a-z0-9]+", "_"),
        r"^_+|_+$", "")
    known = pc.is_in(snake, value_set=pa.array(list(CHANNELS), pa.string()))
    return pc.if_else(pc.is_null(text), pa.scalar(None, pa.string()),
                      pc.if_else(known, snake, pa.scalar("other", pa.string())))


# -- derived columns (prepare) --------------------------------------------------------------

def _text(batch: pa.RecordBatch, name: str) -> pa.Array | None:
    """A column as text with blanks as NULL, or None when the file lacks it."""
    if name not in batch.schema.names:
        return None
    return _blank_to_null(batch.column(name))


def _coalesce(batch: pa.RecordBatch, names: tuple[str, ...]) -> pa.Array:
    present = [a for a in (_text(batch, c) for c in names) if a is not None]
    if not present:
        return _null_text(batch.num_rows)
    return present[0] if len(present) == 1 else pc.coalesce(*present)


def _is_true(a: pa.Array) -> pa.Array:
    return pc.fill_null(pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(a)), value_set=_TRUE),
                        False)


def _equals(a: pa.Array | None, value: str, n: int) -> pa.Array:
    if a is None:
        return pa.array([False] * n, pa.bool_())
    return pc.fill_null(pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(a)), value), False)


def _lead_columns(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    n = batch.num_rows
    created = _text(batch, "CreatedDate")
    out = {CREATED_AT: _null_text(n) if created is None else created}
    converted = _text(batch, "ConvertedDate")
    if converted is None:
        return {**out, CONVERTED_AT: _null_text(n)}
    flag = _text(batch, "IsConverted")
    if flag is not None:
        converted = pc.if_else(_is_true(flag), converted, pa.scalar(None, pa.string()))
    if created is not None:
        conv = pc.utf8_trim_whitespace(converted)
        made = pc.utf8_trim_whitespace(created)
        date_only = pc.match_substring_regex(conv, r"^\d{4}-\d\d-\d\d$")
        iso_created = pc.match_substring_regex(made, r"^\d{4}-\d\d-\d\d")
        made_day = pc.utf8_slice_codeunits(made, 0, 10)
        too_early = pc.and_(pc.and_(date_only, iso_created), pc.less_equal(conv, made_day))
        converted = pc.if_else(pc.fill_null(too_early, False), created, converted)
    return {**out, CONVERTED_AT: converted}


def _opportunity_columns(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    return {LOST_REASON: _coalesce(batch, ("Loss_Reason__c", "LossReason"))}


def _member_columns(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    return {MEMBER_ID: _coalesce(batch, ("ContactId", "LeadId"))}


TASK_DATES = ("CompletedDateTime", "ActivityDate", "CreatedDate")
EVENT_DATES = ("ActivityDateTime", "StartDateTime", "ActivityDate", "CreatedDate")


def _task_columns(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    n = batch.num_rows
    subtype, kind = _text(batch, "TaskSubtype"), _text(batch, "Type")
    call = pc.or_(_equals(subtype, "call", n), _equals(kind, "call", n))
    email = pc.or_(pc.or_(_equals(subtype, "email", n), _equals(subtype, "listemail", n)),
                   _equals(kind, "email", n))
    touch = pc.if_else(call, "call", pc.if_else(email, "email", "task"))
    return {OCCURRED_AT: _coalesce(batch, TASK_DATES), TOUCH_TYPE: touch}


def _event_columns(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    return {OCCURRED_AT: _coalesce(batch, EVENT_DATES)}


# -- the objects ----------------------------------------------------------------------------

def _f(
    target: str, source: str | None = None, *, const: str | None = None,
    values: dict[str, str | None] | None = None, transform: str | Transform | None = None,
) -> FieldSpec:
    return FieldSpec(target=target, source=source, const=const, values=values,
                     transform=transform)


def _source() -> FieldSpec:
    return FieldSpec(target="source", const=SOURCE)


def _lead() -> list[EntitySpec]:
    contacts = EntitySpec("contacts", [
        _f("contact_id", "Id"), _f("record_type", const="lead"),
        _f("account_id", "ConvertedAccountId"), _f("email", "Email"),
        _f("first_name", "FirstName"), _f("last_name", "LastName"),
        _f("company", "Company"), _f("title", "Title"), _f("country", "Country"),
        _f("lead_status", "Status"), _f("lead_source", "LeadSource"),
        _f("owner_id", "OwnerId"), _f("created_at", "CreatedDate"),
        _f("converted_at", CONVERTED_AT), _f("converted_contact_id", "ConvertedContactId"),
        _f("converted_opportunity_id", "ConvertedOpportunityId"),
        _f("is_unsubscribed", "HasOptedOutOfEmail"), _source(),
    ])
    transitions = EntitySpec("stage_transitions", [
        _f("entity_type", const="lead"), _f("entity_id", "Id"), _source(),
    ], unpivot=[
        UnpivotSpec(CREATED_AT, {"to_stage": "inquiry"}, "occurred_at"),
        UnpivotSpec(CONVERTED_AT, {"to_stage": "converted"}, "occurred_at"),
    ])
    return [contacts, transitions]


def _contact() -> list[EntitySpec]:
    return [EntitySpec("contacts", [
        _f("contact_id", "Id"), _f("record_type", const="contact"),
        _f("account_id", "AccountId"), _f("email", "Email"),
        _f("first_name", "FirstName"), _f("last_name", "LastName"), _f("title", "Title"),
        _f("function", "Department"), _f("country", "MailingCountry"),
        _f("lead_source", "LeadSource"), _f("owner_id", "OwnerId"),
        _f("created_at", "CreatedDate"), _f("is_unsubscribed", "HasOptedOutOfEmail"),
        _source(),
    ])]


def _account() -> list[EntitySpec]:
    return [EntitySpec("accounts", [
        _f("account_id", "Id"), _f("name", "Name"), _f("domain", "Website", transform="domain"),
        _f("industry", "Industry"), _f("employees", "NumberOfEmployees"),
        _f("annual_revenue", "AnnualRevenue"), _f("country", "BillingCountry"),
        _f("region", "BillingState"), _f("owner_id", "OwnerId"),
        _f("parent_account_id", "ParentId"), _f("created_at", "CreatedDate"), _source(),
    ])]


def _opportunity() -> list[EntitySpec]:
    return [EntitySpec("opportunities", [
        _f("opportunity_id", "Id"), _f("account_id", "AccountId"), _f("name", "Name"),
        _f("amount", "Amount"), _f("currency", "CurrencyIsoCode"), _f("stage", "StageName"),
        _f("opportunity_type", "Type", values=OPPORTUNITY_TYPE_VALUES,
           transform=_known_opportunity_type),
        _f("source_channel", "LeadSource"), _f("primary_campaign_id", "CampaignId"),
        _f("owner_id", "OwnerId"), _f("probability", "Probability"),
        _f("created_at", "CreatedDate"), _f("close_date", "CloseDate"),
        _f("is_closed", "IsClosed"), _f("is_won", "IsWon"), _f("lost_reason", LOST_REASON),
        _source(),
    ])]


def _opportunity_history() -> list[EntitySpec]:
    return [EntitySpec("stage_transitions", [
        _f("entity_type", const="opportunity"), _f("entity_id", "OpportunityId"),
        _f("to_stage", "StageName"), _f("occurred_at", "CreatedDate"),
        _f("amount", "Amount"), _f("probability", "Probability"),
        _f("close_date", "CloseDate"), _source(),
    ])]


def _contact_role() -> list[EntitySpec]:
    return [EntitySpec("opportunity_contacts", [
        _f("opportunity_id", "OpportunityId"), _f("contact_id", "ContactId"),
        _f("role", "Role"), _f("is_primary", "IsPrimary"), _source(),
    ])]


def _campaign() -> list[EntitySpec]:
    return [EntitySpec("campaigns", [
        _f("campaign_id", "Id"), _f("name", "Name"),
        _f("channel", "Type", values=CAMPAIGN_CHANNELS, transform=_campaign_channel),
        _f("campaign_type", "Type"), _f("parent_campaign_id", "ParentId"),
        _f("status", "Status"), _f("start_date", "StartDate"), _f("end_date", "EndDate"),
        _f("budgeted_cost", "BudgetedCost"), _f("actual_cost", "ActualCost"), _source(),
    ])]


def _campaign_member() -> list[EntitySpec]:
    return [EntitySpec("campaign_members", [
        _f("campaign_id", "CampaignId"), _f("contact_id", MEMBER_ID), _f("status", "Status"),
        _f("has_responded", "HasResponded"), _f("created_at", "CreatedDate"),
        _f("first_responded_at", "FirstRespondedDate"), _source(),
    ])]


def _activity(touch_type: FieldSpec) -> Callable[[], list[EntitySpec]]:
    def build() -> list[EntitySpec]:
        return [EntitySpec("touchpoints", [
            _f("touchpoint_id", "Id"), _f("occurred_at", OCCURRED_AT),
            _f("account_id", "AccountId"), _f("contact_id", "WhoId"), touch_type,
            _f("channel", const="outbound_sales"), _source(),
        ])]
    return build


@dataclass(frozen=True)
class SalesforceObject:
    """How one Salesforce object's export maps to canonical entities."""

    name: str  # API name
    build: Callable[[], list[EntitySpec]]
    required: tuple[str, ...]  # columns the header must have
    one_of: tuple[str, ...] = ()  # …and at least one of these
    derive: Callable[[pa.RecordBatch], dict[str, pa.Array]] | None = None
    consumed: tuple[str, ...] = ()  # read by ``derive``: not copied into custom
    keep: tuple[str, ...] = ()  # mapped, but also copied into custom (the mapping is lossy)
    aliases: tuple[str, ...] = ()  # file-name stems besides the lower-case API name


OBJECTS: tuple[SalesforceObject, ...] = (
    SalesforceObject("Lead", _lead, ("Id", "CreatedDate"), derive=_lead_columns,
                     consumed=("IsConverted", "ConvertedDate"), aliases=("leads",)),
    SalesforceObject("Contact", _contact, ("Id",), aliases=("contacts",)),
    SalesforceObject("Account", _account, ("Id",), aliases=("accounts",)),
    SalesforceObject("Opportunity", _opportunity, ("Id",), derive=_opportunity_columns,
                     consumed=("Loss_Reason__c", "LossReason"), keep=("Type",),
                     aliases=("opportunities",)),
    SalesforceObject("OpportunityHistory", _opportunity_history,
                     ("OpportunityId", "StageName", "CreatedDate"),
                     aliases=("opportunityhistories", "opportunity_history",
                              "opportunity_histories")),
    SalesforceObject("OpportunityContactRole", _contact_role, ("OpportunityId", "ContactId"),
                     aliases=("opportunitycontactroles", "opportunity_contact_role",
                              "opportunity_contact_roles")),
    SalesforceObject("Campaign", _campaign, ("Id",), aliases=("campaigns",)),
    SalesforceObject("CampaignMember", _campaign_member, ("CampaignId",),
                     one_of=("ContactId", "LeadId"), derive=_member_columns,
                     consumed=("ContactId", "LeadId"),
                     aliases=("campaignmembers", "campaign_member", "campaign_members")),
    SalesforceObject("Task", _activity(_f("touch_type", TOUCH_TYPE)), ("Id",),
                     one_of=TASK_DATES, derive=_task_columns, aliases=("tasks",)),
    SalesforceObject("Event", _activity(_f("touch_type", const="meeting")), ("Id",),
                     one_of=EVENT_DATES, derive=_event_columns, aliases=("events",)),
)

OBJECT_BY_NAME: dict[str, SalesforceObject] = {o.name: o for o in OBJECTS}
ALIASES: dict[str, str] = {
    alias: o.name for o in OBJECTS for alias in (o.name.lower(), *o.aliases)
}


class SalesforceAdapter(Adapter):
    """Salesforce exports (standard API field names) to canonical entities; see the module
    docstring for the mapping."""

    source = SOURCE

    def __init__(self, entity: str | None = None, layout: str | None = None) -> None:
        self.entity = entity
        self.layout = layout  # "fivetran" / "airbyte": an ELT tool's table layout; None: guess

    def object_for(self, path: Path) -> SalesforceObject:
        """The Salesforce object a file holds (from ``--entity`` or the file name)."""
        return OBJECT_BY_NAME[match_object(path, ALIASES, self.entity, SOURCE)]

    def specs_for(self, src: SourceFile) -> list[EntitySpec]:
        obj = self.object_for(src.path)
        header = set(src.columns)
        if obj.one_of and not header & set(obj.one_of):
            raise InputFileError(
                str(src.path),
                f"missing required column: a {SOURCE} {obj.name} file needs one of "
                f"{', '.join(repr(c) for c in obj.one_of)}; the header has: "
                f"{', '.join(src.columns[:30])}{' …' if len(src.columns) > 30 else ''}",
                code="missing_column",
            )
        specs = obj.build()
        specs[0].required = list(obj.required)
        bag = _bag(specs[0])
        if bag and _extra_columns(obj, specs, src.columns):
            specs[0].fields.append(FieldSpec(target=bag, source=EXTRA))
        return specs

    def prepare(self, path: Path, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Add the columns computed from several source columns (``derive``) and the JSON
        object of the unmapped ones."""
        obj = self.object_for(path)
        added = obj.derive(batch) if obj.derive is not None else {}
        specs = obj.build()
        if _bag(specs[0]):
            extra = _extra_columns(obj, specs, [n for n in batch.schema.names if n != "_line"])
            added[EXTRA] = json_objects({c: batch.column(c) for c in extra}, batch.num_rows)
        names = [n for n in batch.schema.names if n not in added]
        return pa.RecordBatch.from_arrays(
            [batch.column(n) for n in names] + list(added.values()),
            names=names + list(added),
        )


def _bag(spec: EntitySpec) -> str | None:
    """The entity's column for extra source columns: ``custom``, ``properties`` or none."""
    names = spec.schema.column_names
    return "custom" if "custom" in names else "properties" if "properties" in names else None


def _extra_columns(obj: SalesforceObject, specs: list[EntitySpec], columns: list[str]
                   ) -> list[str]:
    """Source columns no spec maps (plus ``keep``), in file order."""
    used = {c for s in specs for c in s.source_columns()} | set(obj.consumed)
    return [c for c in columns if (c not in used or c in obj.keep) and not c.startswith("__sf_")]
