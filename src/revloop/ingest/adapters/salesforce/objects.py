"""How each Salesforce object maps to canonical entities (specs in API field names)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from revloop.ingest.adapters.salesforce import derive as d
from revloop.ingest.adapters.salesforce.columns import blank_to_null
from revloop.ingest.adapters.salesforce.values import (
    CAMPAIGN_CHANNELS,
    EXISTING_PREFIX,
    OPPORTUNITY_TYPE_VALUES,
)
from revloop.ingest.spec import EntitySpec, FieldSpec, Transform, UnpivotSpec
from revloop.schema import CHANNELS, OPPORTUNITY_TYPES

SOURCE = "salesforce"
_NULL = pa.scalar(None, pa.string())


def _known_opportunity_type(a: pa.Array) -> pa.Array:
    """After the value map: keep new/renewal/expansion; another value starting with
    ``Existing`` is expansion (never new business); anything else is empty."""
    allowed = pa.array(list(OPPORTUNITY_TYPES), pa.string())
    existing = pc.fill_null(pc.starts_with(pc.utf8_lower(pc.utf8_trim_whitespace(a)),
                                           EXISTING_PREFIX), False)
    return pc.if_else(pc.is_in(a, value_set=allowed), a,
                      pc.if_else(existing, pa.scalar("expansion", pa.string()), _NULL))


def _campaign_channel(a: pa.Array) -> pa.Array:
    """After the value map: a canonical channel name stays, other types become ``other``."""
    text = blank_to_null(a)
    snake = pc.replace_substring_regex(
        pc.replace_substring_regex(pc.utf8_lower(pc.utf8_trim_whitespace(text)),
                                   r"[^a-z0-9]+", "_"),
        r"^_+|_+$", "")
    known = pc.is_in(snake, value_set=pa.array(list(CHANNELS), pa.string()))
    return pc.if_else(pc.is_null(text), _NULL,
                      pc.if_else(known, snake, pa.scalar("other", pa.string())))


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
        _f("converted_at", d.CONVERTED_AT), _f("converted_contact_id", "ConvertedContactId"),
        _f("converted_opportunity_id", "ConvertedOpportunityId"),
        _f("is_unsubscribed", "HasOptedOutOfEmail"), _source(),
    ])
    transitions = EntitySpec("stage_transitions", [
        _f("entity_type", const="lead"), _f("entity_id", "Id"),
        _f("reconstructed", const="false"), _source(),
    ], unpivot=[
        UnpivotSpec(d.CREATED_AT, {"to_stage": "inquiry"}, "occurred_at"),
        UnpivotSpec(d.CONVERTED_AT, {"to_stage": "converted"}, "occurred_at"),
    ])
    # the current status, where it says more than the two rows above (see derive._status)
    status = EntitySpec("stage_transitions", [
        _f("entity_type", const="lead"), _f("entity_id", "Id"),
        _f("to_stage", d.STATUS_STAGE), _f("occurred_at", d.STATUS_AT),
        _f("reconstructed", const="true"), _source(),
    ], where=d.STATUS_AT)
    return [contacts, transitions, status]


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
        _f("is_closed", "IsClosed"), _f("is_won", "IsWon"), _f("lost_reason", d.LOST_REASON),
        _source(),
    ])]


def _opportunity_history() -> list[EntitySpec]:
    return [EntitySpec("stage_transitions", [
        _f("entity_type", const="opportunity"), _f("entity_id", "OpportunityId"),
        _f("to_stage", "StageName"), _f("occurred_at", "CreatedDate"),
        _f("amount", "Amount"), _f("probability", "Probability"),
        _f("close_date", "CloseDate"), _f("transition_id", "Id"),
        _f("reconstructed", const="false"), _source(),
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
        _f("campaign_id", "CampaignId"), _f("contact_id", d.MEMBER_ID), _f("status", "Status"),
        _f("has_responded", "HasResponded"), _f("created_at", "CreatedDate"),
        _f("first_responded_at", "FirstRespondedDate"), _source(),
    ])]


def _activity(touch_type: FieldSpec) -> Callable[[], list[EntitySpec]]:
    def build() -> list[EntitySpec]:
        return [EntitySpec("touchpoints", [
            _f("touchpoint_id", "Id"), _f("occurred_at", d.OCCURRED_AT),
            _f("account_id", "AccountId"), _f("contact_id", "WhoId"), touch_type,
            _f("channel", const="outbound_sales"), _source(),
        ])]
    return build


def _user() -> list[EntitySpec]:
    return [EntitySpec("users", [
        _f("user_id", "Id"), _f("name", d.USER_NAME), _f("email", "Email"),
        _f("role", d.USER_ROLE), _f("team_id", "UserRoleId"), _f("manager_id", "ManagerId"),
        _f("is_active", "IsActive"), _source(),
    ])]


def _user_role() -> list[EntitySpec]:
    return [EntitySpec("teams", [
        _f("team_id", "Id"), _f("name", "Name"), _f("team_type", d.TEAM_TYPE),
        _f("manager_id", "ForecastUserId"), _source(),
    ])]


def _dated_rate() -> list[EntitySpec]:
    return [EntitySpec("currency_rates", [
        _f("currency", "IsoCode"), _f("rate", "ConversionRate"),
        _f("start_date", "StartDate"), _f("next_start_date", "NextStartDate"), _source(),
    ])]


def _currency_type() -> list[EntitySpec]:
    return [EntitySpec("currency_rates", [
        _f("currency", "IsoCode"), _f("rate", "ConversionRate"),
        _f("is_corporate", "IsCorporate"), _source(),
    ])]


Derive = Callable[[d.Frame], dict[str, pa.Array]]


@dataclass(frozen=True)
class SalesforceObject:
    """How one Salesforce object's export maps to canonical entities."""

    name: str  # API name
    build: Callable[[], list[EntitySpec]]
    required: tuple[str, ...]  # columns the header must have
    one_of: tuple[str, ...] = ()  # …and at least one of these
    derive: Derive | None = None
    consumed: tuple[str, ...] = ()  # read by ``derive``: not copied into custom
    keep: tuple[str, ...] = ()  # mapped, but also copied into custom (the mapping is lossy)
    aliases: tuple[str, ...] = ()  # file-name stems besides the generated ones
    loss_reason: bool = False  # reads the configured loss-reason fields

    def consumed_with(self, options: d.Options) -> tuple[str, ...]:
        """Columns read but not mapped by a spec (never copied into custom); ``IsDeleted``
        is always false on the rows kept."""
        extra = options.loss_reason_fields if self.loss_reason else ()
        return (*self.consumed, *extra, "IsDeleted")


OBJECTS: tuple[SalesforceObject, ...] = (
    SalesforceObject("Lead", _lead, ("Id",), derive=d.lead_columns,
                     consumed=("IsConverted", "ConvertedDate")),
    SalesforceObject("Contact", _contact, ("Id",)),
    SalesforceObject("Account", _account, ("Id",)),
    SalesforceObject("Opportunity", _opportunity, ("Id",), derive=d.opportunity_columns,
                     keep=("Type",), loss_reason=True),
    SalesforceObject("OpportunityHistory", _opportunity_history,
                     ("OpportunityId", "StageName", "CreatedDate")),
    SalesforceObject("OpportunityContactRole", _contact_role, ("OpportunityId", "ContactId")),
    SalesforceObject("Campaign", _campaign, ("Id",)),
    SalesforceObject("CampaignMember", _campaign_member, ("CampaignId",),
                     one_of=("ContactId", "LeadId"), derive=d.member_columns,
                     consumed=("ContactId", "LeadId")),
    SalesforceObject("Task", _activity(_f("touch_type", d.TOUCH_TYPE)), ("Id",),
                     one_of=d.TASK_DATES, derive=d.task_columns),
    SalesforceObject("Event", _activity(_f("touch_type", const="meeting")), ("Id",),
                     one_of=d.EVENT_DATES, derive=d.event_columns),
    SalesforceObject("User", _user, ("Id",), derive=d.user_columns),
    SalesforceObject("UserRole", _user_role, ("Id",), derive=d.team_columns),
    SalesforceObject("DatedConversionRate", _dated_rate, ("IsoCode", "ConversionRate")),
    SalesforceObject("CurrencyType", _currency_type, ("IsoCode", "ConversionRate")),
)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _plural(name: str) -> str:
    return name[:-1] + "ies" if re.search(r"[^aeiou]y$", name) else name + "s"


def file_stems(obj: SalesforceObject) -> tuple[str, ...]:
    """``OpportunityHistory`` → opportunityhistory, opportunity_history and their plurals
    (Fivetran names its tables in snake_case; Airbyte's streams are the API names)."""
    stems = {obj.name.lower(), _snake(obj.name), *obj.aliases}
    return tuple(sorted(stems | {_plural(s) for s in stems}))


OBJECT_BY_NAME: dict[str, SalesforceObject] = {o.name: o for o in OBJECTS}
ALIASES: dict[str, str] = {stem: o.name for o in OBJECTS for stem in file_stems(o)}
