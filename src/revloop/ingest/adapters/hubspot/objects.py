"""The HubSpot CRM objects (contacts, companies, deals, engagements) as entity specs.

Each object's properties are found by their internal name (API exports, ELT tables after
the prefix is stripped) or by their label (UI exports); see the package docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from revloop.ingest.adapters.hubspot import maps
from revloop.ingest.adapters.hubspot import transforms as t
from revloop.ingest.adapters.hubspot.header import DEAL_DATES, LIFECYCLE_DATES, Header
from revloop.ingest.spec import EntitySpec, FieldSpec, UnpivotSpec
from revloop.schema import OPPORTUNITY_TYPES

SOURCE = "hubspot"

# epoch_ms first: a cheap digit check, whereas ISO parsing of a digit-only column falls to
# Arrow's slow per-value path. "iso" also reads "2024-03-05 14:22"; the strptime formats are
# there for whatever Arrow's ISO parser refuses.
DATE_FORMATS: tuple[str, ...] = (
    "epoch_ms", "iso", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d",
)

CREATED = ("createdate", "Create Date")
MODIFIED = ("lastmodifieddate", "hs_lastmodifieddate", "Last Modified Date")
CONTACT_COMPANY = ("associatedcompanyid", "Associated Company IDs (Primary)",
                   "associations.company", "associations.companies", "associations.companyIds",
                   "associations_companyIds", "Associated Company IDs", "Associated Company ID")
COMPANY_ID = (*CONTACT_COMPANY, "company_id", "companyId")  # deals and engagements
CONTACT_ID = ("associatedcontactid", "associations.contact", "associations.contacts",
              "associations.contactIds", "associations_contactIds", "Associated Contact IDs",
              "contact_id", "contactId")
SOURCES = ("hs_analytics_source", "Original Traffic Source", "Original Source")
DRILL_DOWN = ("hs_analytics_source_data_1", "hs_analytics_source_data_2",
              "Original Traffic Source Drill-Down 1", "Original Traffic Source Drill-Down 2",
              "Original Source Drill-Down 1", "Original Source Drill-Down 2")
ENGAGEMENT_TIMES = ("hs_timestamp", "timestamp", "engagement.timestamp", "hs_createdate",
                    "createdate", "Activity date", "Create Date")
ENGAGEMENT_KINDS = ("hs_engagement_type", "type", "engagement.type")
LIFECYCLE = ("lifecyclestage", "Lifecycle Stage")
DEAL_STAGE = ("dealstage", "Deal Stage")


@dataclass
class Extras:
    """Columns the adapter adds to every batch (ELT association look-ups): role → name."""

    company: list[str] = field(default_factory=list)
    contact: list[str] = field(default_factory=list)


Build = Callable[[Header, str, Extras], list[EntitySpec | None]]


def fields(*items: FieldSpec | None) -> list[FieldSpec]:
    return [f for f in items if f is not None]


def const(target: str, value: str) -> FieldSpec:
    return FieldSpec(target=target, const=value)


def formats(*columns: str) -> dict[str, Sequence[str]]:
    return dict.fromkeys(columns, DATE_FORMATS)


def transitions(stage_dates: list[tuple[str, str]], entity_type: str, id_col: str
                ) -> EntitySpec | None:
    """One stage_transitions row per non-empty stage-date column."""
    unpivot = [UnpivotSpec(column=col, consts={"to_stage": stage}, target="occurred_at")
               for stage, col in stage_dates]
    if not unpivot:
        return None
    return EntitySpec(
        "stage_transitions",
        [const("entity_type", entity_type), FieldSpec("entity_id", source=id_col),
         const("reconstructed", "false"), const("source", SOURCE)],
        formats=formats("occurred_at"), unpivot=unpivot,
    )


def lifecycle_dates(head: Header) -> list[tuple[str, str]]:
    return head.stage_dates(LIFECYCLE_DATES, "lifecycle")


def deal_dates(head: Header) -> list[tuple[str, str]]:
    return head.stage_dates(DEAL_DATES, "deal")


def contacts(head: Header, id_col: str, extras: Extras) -> list[EntitySpec | None]:
    contact = EntitySpec("contacts", fields(
        FieldSpec("contact_id", source=id_col), const("record_type", "contact"),
        head.field("account_id", CONTACT_COMPANY, transform=t.first_id, extra=extras.company),
        head.field("email", ("email",)), head.field("first_name", ("firstname", "First Name")),
        head.field("last_name", ("lastname", "Last Name")),
        head.field("company", ("company", "Company Name")),
        head.field("title", ("jobtitle", "Job Title")),
        head.field("seniority", ("hs_seniority", "Seniority")),
        head.field("function", ("hs_job_function", "job_function", "Job function")),
        head.field("country", ("country", "Country/Region")),
        head.field("lifecycle_stage", LIFECYCLE, values=maps.LIFECYCLE_LABELS),
        head.field("lead_status", ("hs_lead_status", "Lead Status"),
                   values=maps.LEAD_STATUS_LABELS),
        head.field("owner_id", ("hubspot_owner_id", "Contact owner")),
        head.field("lead_source", SOURCES, values=maps.SOURCE_LABELS),
        head.field("created_at", CREATED),
        head.field("is_unsubscribed", ("hs_email_optout", "Unsubscribed from all email")),
        const("source", SOURCE),
    ), formats=formats("created_at"), required=[id_col])
    return [contact, transitions(lifecycle_dates(head), "contact", id_col),
            first_touch(head, id_col, extras)]


def first_touch(head: Header, id_col: str, extras: Extras) -> EntitySpec | None:
    source = head.first(SOURCES)
    when = head.field("occurred_at", ("hs_analytics_first_timestamp", "Time First Seen",
                                      *CREATED))
    if source is None or when is None:
        return None
    return EntitySpec("touchpoints", fields(
        FieldSpec("touchpoint_id", template=f"hs-first-{{{id_col}}}"), when,
        FieldSpec("contact_id", source=id_col),
        head.field("account_id", CONTACT_COMPANY, transform=t.first_id, extra=extras.company),
        const("touch_type", "first_touch"),
        FieldSpec("channel", source=source, values=maps.SOURCE_OR_LABEL_CHANNELS,
                  transform=t.channel),
        head.field("url", ("hs_analytics_first_url", "First Page Seen")),
        const("source", SOURCE),
    ), custom=head.all(DRILL_DOWN), formats=formats("occurred_at"), where=source)


def companies(head: Header, id_col: str, extras: Extras) -> list[EntitySpec | None]:
    account = EntitySpec("accounts", fields(
        FieldSpec("account_id", source=id_col), head.field("name", ("name", "Company name")),
        head.field("domain", ("domain", "website", "Company Domain Name", "Website URL"),
                   transform="domain"),
        head.field("industry", ("industry",)),
        head.field("employees", ("numberofemployees", "Number of Employees")),
        head.field("annual_revenue", ("annualrevenue", "Annual Revenue")),
        head.field("country", ("country", "Country/Region")),
        head.field("region", ("state", "State/Region")),
        head.field("owner_id", ("hubspot_owner_id", "Company owner")),
        head.field("parent_account_id", ("hs_parent_company_id", "Parent Company")),
        head.field("created_at", CREATED), const("source", SOURCE),
    ), formats=formats("created_at"), required=[id_col])
    return [account, transitions(lifecycle_dates(head), "account", id_col)]


def _deal_flags(head: Header) -> tuple[FieldSpec | None, FieldSpec | None]:
    """is_closed / is_won: HubSpot's own flags, else the default pipeline's stage."""
    stage = head.first(DEAL_STAGE)
    is_closed = head.field("is_closed", ("hs_is_closed", "Is closed"))
    is_won = head.field("is_won", ("hs_is_closed_won", "Is Closed Won"))
    if is_closed is None and stage is not None:
        is_closed = FieldSpec("is_closed", source=stage, transform=t.only("true", "false"),
                              values=maps.with_labels(maps.DEAL_CLOSED, maps.DEAL_STAGE_LABELS))
    if is_won is None and stage is not None:
        is_won = FieldSpec("is_won", source=stage, transform=t.only("true", "false"),
                           values=maps.with_labels(maps.DEAL_WON, maps.DEAL_STAGE_LABELS))
    return is_closed, is_won


def deals(head: Header, id_col: str, extras: Extras) -> list[EntitySpec | None]:
    is_closed, is_won = _deal_flags(head)
    deal = EntitySpec("opportunities", fields(
        FieldSpec("opportunity_id", source=id_col),
        head.field("account_id", COMPANY_ID, transform=t.first_id, extra=extras.company),
        head.field("name", ("dealname", "Deal Name")), head.field("amount", ("amount",)),
        head.field("currency", ("deal_currency_code", "Currency", "Deal currency code")),
        head.field("stage", DEAL_STAGE, values=maps.DEAL_STAGE_LABELS),
        head.field("opportunity_type", ("dealtype", "Deal Type"), values=maps.DEAL_TYPES,
                   transform=t.only(*OPPORTUNITY_TYPES)),
        head.field("source_channel", SOURCES, values=maps.SOURCE_OR_LABEL_CHANNELS,
                   transform=t.channel),
        head.field("owner_id", ("hubspot_owner_id", "Deal owner")),
        head.field("probability", ("hs_deal_stage_probability", "Deal probability"),
                   transform=t.percent),
        head.field("created_at", CREATED), head.field("close_date", ("closedate", "Close Date")),
        is_closed, is_won, head.field("lost_reason", ("closed_lost_reason", "Closed Lost Reason")),
        const("source", SOURCE),
    ), formats=formats("created_at", "close_date"), required=[id_col])
    return [deal, transitions(deal_dates(head), "opportunity", id_col)]


def engagements(head: Header, id_col: str, extras: Extras) -> list[EntitySpec | None]:
    time_col = head.need(ENGAGEMENT_TIMES, "timestamp column for HubSpot engagements")
    when = head.field("occurred_at", ENGAGEMENT_TIMES)
    kind = head.first(ENGAGEMENT_KINDS)
    channel = (const("channel", "sales") if kind is None else FieldSpec(
        "channel", source=kind, values=maps.ENGAGEMENT_CHANNELS, transform=t.sales_channel))
    touch = EntitySpec("touchpoints", fields(
        FieldSpec("touchpoint_id", source=id_col), when,
        None if kind is None else FieldSpec("touch_type", source=kind,
                                            values=maps.ENGAGEMENT_TYPES, transform=t.lower),
        channel,
        head.field("contact_id", CONTACT_ID, transform=t.first_id, extra=extras.contact),
        head.field("account_id", COMPANY_ID, transform=t.first_id, extra=extras.company),
        const("source", SOURCE),
    ), formats=formats("occurred_at"), required=[id_col, time_col])
    return [touch]


def engagement_of_type(kind: str) -> Build:
    """An engagement table of one type (Fivetran ``engagement_call``, Airbyte
    ``engagements_calls``): touchpoints whose type is the table's."""
    upper = kind.upper()

    def build(head: Header, id_col: str, extras: Extras) -> list[EntitySpec | None]:
        time_col = head.need(ENGAGEMENT_TIMES, f"timestamp column for HubSpot {kind}s")
        return [EntitySpec("touchpoints", fields(
            FieldSpec("touchpoint_id", source=id_col),
            head.field("occurred_at", ENGAGEMENT_TIMES),
            const("touch_type", maps.ENGAGEMENT_TYPES.get(upper) or kind),
            const("channel", maps.ENGAGEMENT_CHANNELS.get(upper) or "sales"),
            head.field("contact_id", (*CONTACT_ID, "contacts"), transform=t.first_id,
                       extra=extras.contact),
            head.field("account_id", (*COMPANY_ID, "companies"), transform=t.first_id,
                       extra=extras.company),
            const("source", SOURCE),
        ), formats=formats("occurred_at"), required=[id_col, time_col])]
    return build


def stage_of(head: Header, obj: str) -> str | None:
    """The column of the current stage of an object's records (for reconstruction)."""
    return head.first(DEAL_STAGE if obj == "deals" else LIFECYCLE)
