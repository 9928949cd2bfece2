"""The canonical revenue schema: every entity revloop stores, defined once.

Importers produce rows of these entities; the store creates ``raw_<entity>`` tables from them;
``docs/schema.md`` is generated from this module (``revloop schema --markdown``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnType(StrEnum):
    """Logical column types; each engine maps them to its own physical type."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"  # any real number
    AMOUNT = "amount"  # money or counts that can never be negative
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"  # naive UTC
    JSON = "json"  # an object serialised as JSON text (portable across engines)


@dataclass(frozen=True)
class Column:
    """One canonical column."""

    name: str
    type: ColumnType
    description: str
    required: bool = False
    references: str | None = None  # "<entity>" whose key this column holds
    values: tuple[str, ...] = ()  # allowed values, when the set is closed


@dataclass(frozen=True)
class Entity:
    """One canonical entity: a table of the store with a natural key."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    custom: bool = False  # has a ``custom`` JSON column for extra source columns

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def raw_table(self) -> str:
        return f"raw_{self.name}"


S, INT, N, A, B, D, T, J = (
    ColumnType.STRING, ColumnType.INTEGER, ColumnType.NUMBER, ColumnType.AMOUNT,
    ColumnType.BOOLEAN, ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.JSON,
)

ENTITY_TYPES = ("lead", "contact", "account", "opportunity")
OPPORTUNITY_TYPES = ("new", "renewal", "expansion")
CHANNELS = (
    "paid_search", "organic_search", "paid_social", "organic_social", "email", "display",
    "events", "webinar", "content", "content_syndication", "direct", "referral", "partner",
    "outbound_sales", "inbound_sales", "sales", "other",
)
USER_ROLES = ("rep", "sdr", "marketer", "csm", "manager", "other")


def _source() -> Column:
    return Column("source", S, "Which importer produced the row (canonical, salesforce, …)")


def _custom() -> Column:
    return Column("custom", J, "Extra source columns kept verbatim, as a JSON object")


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "accounts", "Companies: prospects, customers, partners.", ("account_id",),
        (
            Column("account_id", S, "Account identifier", required=True),
            Column("name", S, "Company name"),
            Column("domain", S, "Web domain, lower case without www. (e.g. acme.com)"),
            Column("industry", S, "Industry"),
            Column("employees", INT, "Number of employees"),
            Column("annual_revenue", A, "Annual revenue in the account's currency"),
            Column("country", S, "Country"),
            Column("region", S, "Region or state"),
            Column("owner_id", S, "Owning user", references="users"),
            Column("parent_account_id", S, "Parent company", references="accounts"),
            Column("created_at", T, "When the account was created in the source"),
            _source(), _custom(),
        ),
        custom=True,
    ),
    Entity(
        "contacts", "People, leads included (a lead is a contact with record_type 'lead').",
        ("contact_id",),
        (
            Column("contact_id", S, "Contact or lead identifier", required=True),
            Column("record_type", S, "lead or contact", values=("lead", "contact")),
            Column("account_id", S, "Account the person works for", references="accounts"),
            Column("email", S, "E-mail address"),
            Column("first_name", S, "First name"),
            Column("last_name", S, "Last name"),
            Column("company", S, "Company name as typed on a lead form"),
            Column("title", S, "Job title"),
            Column("seniority", S, "Seniority (e.g. c_level, vp, director, manager, staff)"),
            Column("function", S, "Job function (e.g. marketing, sales, it, finance)"),
            Column("country", S, "Country"),
            Column("lifecycle_stage", S, "Current lifecycle stage as the source names it"),
            Column("lead_status", S, "Current lead status as the source names it"),
            Column("owner_id", S, "Owning user", references="users"),
            Column("lead_source", S, "Lead source / original channel"),
            Column("created_at", T, "When the person entered the database"),
            Column("converted_at", T, "When the lead was converted to a contact/opportunity"),
            Column("converted_contact_id", S, "Contact this lead became", references="contacts"),
            Column("converted_opportunity_id", S, "Opportunity created at conversion",
                   references="opportunities"),
            Column("is_unsubscribed", B, "Opted out of marketing e-mail"),
            _source(), _custom(),
        ),
        custom=True,
    ),
    Entity(
        "opportunities", "Deals: new business, renewals and expansions.", ("opportunity_id",),
        (
            Column("opportunity_id", S, "Opportunity identifier", required=True),
            Column("account_id", S, "Account", references="accounts"),
            Column("name", S, "Opportunity name"),
            Column("amount", A, "Amount"),
            Column("currency", S, "ISO currency code"),
            Column("stage", S, "Current stage as the source names it"),
            Column("opportunity_type", S, "new, renewal or expansion", values=OPPORTUNITY_TYPES),
            Column("source_channel", S, "Channel that sourced the deal"),
            Column("primary_campaign_id", S, "Primary campaign", references="campaigns"),
            Column("owner_id", S, "Owning rep", references="users"),
            Column("product", S, "Main product"),
            Column("probability", N, "Win probability in percent (0–100)"),
            Column("created_at", T, "When the opportunity was created"),
            Column("close_date", D, "Expected or actual close date"),
            Column("is_closed", B, "Closed (won or lost)"),
            Column("is_won", B, "Closed won"),
            Column("lost_reason", S, "Why it was lost"),
            _source(), _custom(),
        ),
        custom=True,
    ),
    Entity(
        "currency_rates",
        "Exchange rates into the corporate currency, dated (Salesforce DatedConversionRate) "
        "or standing (CurrencyType; start_date empty).",
        ("currency", "start_date"),
        (
            Column("currency", S, "ISO currency code the rate converts from", required=True),
            Column("rate", N, "Units of this currency per one unit of the corporate currency",
                   required=True),
            Column("start_date", D, "First day the rate is in force; empty for a standing rate"),
            Column("next_start_date", D, "First day of the next rate (exclusive end)"),
            Column("is_corporate", B, "This currency is the corporate currency"),
            _source(),
        ),
    ),
    Entity(
        "opportunity_contacts", "People on a deal and their roles (the buying group).",
        ("opportunity_id", "contact_id"),
        (
            Column("opportunity_id", S, "Opportunity", required=True, references="opportunities"),
            Column("contact_id", S, "Contact", required=True, references="contacts"),
            Column("role", S, "Role (decision maker, champion, …)"),
            Column("is_primary", B, "Primary contact of the deal"),
            _source(),
        ),
    ),
    Entity(
        "stage_transitions",
        "ONE log of stage changes for leads, contacts, accounts and opportunities.",
        ("entity_type", "entity_id", "to_stage", "occurred_at", "transition_id"),
        (
            Column("entity_type", S, "lead, contact, account or opportunity", required=True,
                   values=ENTITY_TYPES),
            Column("entity_id", S, "Identifier of the entity that moved", required=True),
            Column("from_stage", S, "Stage before (empty for the first)"),
            Column("to_stage", S, "Stage after", required=True),
            Column("occurred_at", T, "When it moved", required=True),
            Column("amount", A, "Amount at that moment (opportunities)"),
            Column("probability", N, "Probability at that moment, percent"),
            Column("close_date", D, "Expected close date at that moment"),
            Column("reason", S, "Reason (lost, disqualified, recycled)"),
            Column("transition_id", S, "The source's own id of the history row, where it has "
                   "one (Salesforce OpportunityHistory Id): rows saved in the same second "
                   "are kept apart"),
            Column("reconstructed", B, "Inferred (e.g. from the creation date and the current "
                   "stage or status), not read from the source's stage history"),
            _source(),
        ),
    ),
    Entity(
        "touchpoints", "Interactions: visits, content views, e-mail, ads, events, calls, meetings.",
        ("touchpoint_id",),
        (
            Column("touchpoint_id", S, "Touchpoint identifier", required=True),
            Column("occurred_at", T, "When it happened", required=True),
            Column("account_id", S, "Account", references="accounts"),
            Column("contact_id", S, "Known person", references="contacts"),
            Column("anonymous_id", S, "Cookie / device id before identification"),
            Column("touch_type", S, "visit, content_view, email_open, email_click, ad_click, "
                   "form_fill, webinar, event, meeting, call, identify, …"),
            Column("channel", S, "Normalised channel (paid_search, email, events, …)"),
            Column("campaign_id", S, "Campaign", references="campaigns"),
            Column("content_id", S, "Content asset", references="content"),
            Column("url", S, "Page URL"),
            Column("properties", J, "Any other attributes, as a JSON object"),
            _source(),
        ),
    ),
    Entity(
        "campaigns", "Marketing campaigns with channel and cost.", ("campaign_id",),
        (
            Column("campaign_id", S, "Campaign identifier", required=True),
            Column("name", S, "Name"),
            Column("channel", S, "Normalised channel"),
            Column("campaign_type", S, "Type as the source names it (Webinar, Email, …)"),
            Column("parent_campaign_id", S, "Parent campaign", references="campaigns"),
            Column("status", S, "Status"),
            Column("start_date", D, "First day"),
            Column("end_date", D, "Last day"),
            Column("budgeted_cost", A, "Budgeted cost"),
            Column("actual_cost", A, "Actual cost"),
            _source(), _custom(),
        ),
        custom=True,
    ),
    Entity(
        "campaign_spend", "Daily spend per campaign.", ("campaign_id", "day"),
        (
            Column("campaign_id", S, "Campaign", required=True, references="campaigns"),
            Column("day", D, "Day", required=True),
            Column("amount", A, "Spend that day", required=True),
            _source(),
        ),
    ),
    Entity(
        "campaign_members", "People who were part of a campaign.", ("campaign_id", "contact_id"),
        (
            Column("campaign_id", S, "Campaign", required=True, references="campaigns"),
            Column("contact_id", S, "Contact or lead", required=True, references="contacts"),
            Column("status", S, "Member status (Sent, Responded, Attended, …)"),
            Column("has_responded", B, "Responded"),
            Column("created_at", T, "When they joined the campaign"),
            Column("first_responded_at", T, "When they first responded"),
            _source(),
        ),
    ),
    Entity(
        "content", "Content assets: articles, e-books, videos, case studies, webinars.",
        ("content_id",),
        (
            Column("content_id", S, "Content identifier", required=True),
            Column("title", S, "Title"),
            Column("content_type", S, "Format (article, ebook, video, case_study, …)"),
            Column("topic", S, "Topic"),
            Column("url", S, "URL"),
            Column("published_at", T, "Publication time"),
            Column("funnel_stage", S, "Funnel stage it serves (awareness, consideration, "
                   "decision)"),
            Column("persona", S, "Persona it is written for"),
            _source(), _custom(),
        ),
        custom=True,
    ),
    Entity(
        "users", "People of the revenue team: reps, SDRs, marketers, CSMs.", ("user_id",),
        (
            Column("user_id", S, "User identifier", required=True),
            Column("name", S, "Full name"),
            Column("email", S, "E-mail"),
            Column("role", S, "rep, sdr, marketer, csm, manager or other", values=USER_ROLES),
            Column("team_id", S, "Team", references="teams"),
            Column("manager_id", S, "Manager", references="users"),
            Column("territory", S, "Territory"),
            Column("is_active", B, "Still active"),
            _source(),
        ),
    ),
    Entity(
        "teams", "Teams of users, with territory.", ("team_id",),
        (
            Column("team_id", S, "Team identifier", required=True),
            Column("name", S, "Name"),
            Column("team_type", S, "sales, sdr, marketing, customer_success, …"),
            Column("manager_id", S, "Manager", references="users"),
            Column("territory", S, "Territory"),
            _source(),
        ),
    ),
    Entity(
        "quotas", "Targets per period and channel, team or user.",
        ("period_start", "period_end", "channel", "team_id", "user_id", "metric"),
        (
            Column("period_start", D, "First day of the period", required=True),
            Column("period_end", D, "Last day of the period", required=True),
            Column("channel", S, "Source channel the quota is for"),
            Column("team_id", S, "Team the quota is for", references="teams"),
            Column("user_id", S, "User the quota is for", references="users"),
            Column("amount", A, "Target amount", required=True),
            Column("metric", S, "bookings, pipeline, opportunities, …"),
            _source(),
        ),
    ),
    Entity(
        "intent_signals", "Third-party research signals per account, topic and day.",
        ("account_id", "topic", "day"),
        (
            Column("account_id", S, "Account", required=True, references="accounts"),
            Column("topic", S, "Topic or keyword", required=True),
            Column("day", D, "Day", required=True),
            Column("score", N, "Surge strength (0–100)"),
            _source(),
        ),
    ),
    Entity(
        "technographics", "Technologies an account uses.", ("account_id", "technology"),
        (
            Column("account_id", S, "Account", required=True, references="accounts"),
            Column("technology", S, "Technology or product", required=True),
            Column("category", S, "Category (crm, marketing_automation, cloud, …)"),
            Column("first_seen", D, "First seen"),
            Column("last_seen", D, "Last seen"),
            _source(),
        ),
    ),
)

ENTITY_BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}

# Bookkeeping columns every raw table carries after the canonical ones.
META_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("_key", S),  # the natural key as one string
    ("_hash", S),  # content hash of the canonical columns
    ("_import_id", S),  # the import that stored this version
)

QUARANTINE_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("import_id", S), ("entity", S), ("source_file", S), ("line", INT), ("column_name", S),
    ("value", S), ("code", S), ("reason", S), ("record", J), ("quarantined_at", T),
)

IMPORT_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("import_id", S), ("source", S), ("files", J), ("started_at", T), ("finished_at", T),
    ("read", INT), ("stored", INT), ("duplicates", INT), ("quarantined", INT), ("entities", J),
)

#: ``store_meta``: what the store is (its schema version, when it was created or migrated).
STORE_META_COLUMNS: tuple[tuple[str, ColumnType], ...] = (("key", S), ("value", S))

#: ``builds``: every build, so an interrupted one can be told from the marts in force.
BUILD_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("build_id", S), ("started_at", T), ("finished_at", T), ("status", S), ("marts", J),
)


def entity(name: str) -> Entity:
    """The entity called ``name``; a clear error listing the known ones otherwise."""
    try:
        return ENTITY_BY_NAME[name]
    except KeyError:
        known = ", ".join(ENTITY_BY_NAME)
        raise KeyError(f"unknown entity {name!r}; known entities: {known}") from None
