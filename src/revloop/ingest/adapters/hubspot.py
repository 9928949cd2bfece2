"""HubSpot CRM exports with internal property names as headers.

Objects, from the file name (``contacts.csv``, ``companies-2024.csv``, ``deals.csv``,
``engagements.csv``) or ``--entity``:

* **contacts** → ``contacts``; every ``hs_lifecyclestage_<stage>_date`` column → one
  ``stage_transitions`` row (entity_type ``contact``, HubSpot's stage name kept; the funnel maps
  it); ``hs_analytics_source`` → a ``first_touch`` touchpoint at
  ``hs_analytics_first_timestamp`` (``createdate`` where that is empty), channel normalised.
* **companies** → ``accounts`` and their lifecycle-date transitions (entity_type ``account``).
* **deals** → ``opportunities``; every ``hs_date_entered_<stage id>`` column → one transition
  (entity_type ``opportunity``). Probability 0–1 becomes percent.
* **engagements** → ``touchpoints`` (channel ``sales``: a rep's call, e-mail or meeting).

Dates parse as ISO 8601, ``YYYY-MM-DD HH:MM`` (UI exports) or epoch milliseconds (API dumps).
Columns not mapped are kept in ``custom`` (``properties`` for engagements).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from revloop.errors import InputFileError
from revloop.ingest.adapters.base import Adapter, match_object
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec, FieldSpec, UnpivotSpec

DATE_FORMATS = ("iso", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "epoch_ms", "%Y-%m-%d",
                "%m/%d/%Y %H:%M", "%m/%d/%Y")

_OBJECTS = {
    "contacts": "contacts", "contact": "contacts",
    "companies": "companies", "company": "companies",
    "deals": "deals", "deal": "deals",
    "engagements": "engagements", "engagement": "engagements",
}

ID_ALIASES = {
    "contacts": ("hs_object_id", "vid", "Record ID", "id"),
    "companies": ("hs_object_id", "companyId", "Record ID", "id"),
    "deals": ("hs_object_id", "dealId", "Record ID", "id"),
    "engagements": ("hs_object_id", "engagement.id", "id", "Record ID"),
}

SOURCE_CHANNELS: dict[str, str | None] = {
    "ORGANIC_SEARCH": "organic_search", "PAID_SEARCH": "paid_search",
    "EMAIL_MARKETING": "email", "SOCIAL_MEDIA": "organic_social", "PAID_SOCIAL": "paid_social",
    "REFERRALS": "referral", "DIRECT_TRAFFIC": "direct", "OTHER_CAMPAIGNS": "other",
    "OFFLINE": "events", "AI_REFERRALS": "referral",
}
DEAL_TYPES: dict[str, str | None] = {
    "newbusiness": "new", "existingbusiness": "expansion", "renewal": "renewal",
}
ENGAGEMENT_TYPES: dict[str, str | None] = {
    "EMAIL": "email", "INCOMING_EMAIL": "email_reply", "CALL": "call", "MEETING": "meeting",
    "NOTE": "note", "TASK": "task",
}
_LIFECYCLE_DATE = re.compile(r"^hs_lifecyclestage_(.+)_date$")
_DEAL_ENTERED = re.compile(r"^hs_date_entered_(.+)$")


def _percent(values: pa.Array) -> pa.Array:
    """HubSpot probabilities are 0–1; revloop keeps percent (0–100)."""
    text = pc.utf8_trim_whitespace(values)
    numeric = pc.match_substring_regex(text, r"^[-+]?(\d+(\.\d*)?|\.\d+)$")
    number = pc.if_else(numeric, text, None).cast(pa.float64())
    scaled = pc.multiply(number, 100.0)
    return pc.if_else(numeric, scaled.cast(pa.string()), values)


def _first_present(src: SourceFile, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in src.columns), None)


def _id_column(src: SourceFile, obj: str) -> str:
    name = _first_present(src, ID_ALIASES[obj])
    if name is None:
        raise InputFileError(
            str(src.path),
            f"no id column for HubSpot {obj}: expected one of "
            f"{', '.join(repr(a) for a in ID_ALIASES[obj])}",
            code="missing_column",
        )
    return name


def _f(target: str, source: str | None, src: SourceFile, **kw: object) -> FieldSpec | None:
    if source is None or source not in src.columns:
        return None
    return FieldSpec(target=target, source=source, **kw)  # type: ignore[arg-type]


def _fields(*items: FieldSpec | None) -> list[FieldSpec]:
    return [f for f in items if f is not None]


def _dates(*columns: str) -> dict[str, Sequence[str]]:
    return {c: DATE_FORMATS for c in columns}


def _transitions(src: SourceFile, pattern: re.Pattern[str], entity_type: str,
                 id_col: str) -> EntitySpec | None:
    unpivot = []
    for col in src.columns:
        m = pattern.match(col)
        if m:
            unpivot.append(UnpivotSpec(column=col, consts={"to_stage": m.group(1)},
                                       target="occurred_at"))
    if not unpivot:
        return None
    return EntitySpec(
        "stage_transitions",
        [FieldSpec("entity_type", const=entity_type), FieldSpec("entity_id", source=id_col),
         FieldSpec("source", const="hubspot")],
        formats=_dates("occurred_at"), unpivot=unpivot,
    )


class HubSpotAdapter(Adapter):
    """Maps HubSpot contacts, companies, deals and engagements exports."""

    source = "hubspot"

    def __init__(self, entity: str | None = None) -> None:
        self.entity = entity

    def specs_for(self, src: SourceFile) -> list[EntitySpec]:
        obj = match_object(src.path, _OBJECTS, self.entity, "HubSpot")
        id_col = _id_column(src, obj)
        build = {"contacts": self._contacts, "companies": self._companies,
                 "deals": self._deals, "engagements": self._engagements}[obj]
        return [s for s in build(src, id_col) if s is not None]

    def _contacts(self, src: SourceFile, id_col: str) -> list[EntitySpec | None]:
        contact = EntitySpec(
            "contacts",
            _fields(
                FieldSpec("contact_id", source=id_col), FieldSpec("record_type", const="contact"),
                _f("email", "email", src), _f("first_name", "firstname", src),
                _f("last_name", "lastname", src), _f("company", "company", src),
                _f("title", "jobtitle", src), _f("seniority", "hs_seniority", src),
                _f("function", _first_present(src, ("hs_job_function", "job_function")), src),
                _f("country", "country", src), _f("lifecycle_stage", "lifecyclestage", src),
                _f("lead_status", "hs_lead_status", src),
                _f("owner_id", "hubspot_owner_id", src),
                _f("account_id", "associatedcompanyid", src),
                _f("created_at", "createdate", src),
                _f("lead_source", "hs_analytics_source", src),
                _f("is_unsubscribed", "hs_email_optout", src),
                FieldSpec("source", const="hubspot"),
            ),
            custom=True, formats=_dates("created_at"), required=[id_col],
        )
        first_touch = None
        when = _first_present(src, ("hs_analytics_first_timestamp", "createdate"))
        later = ("createdate",) if when == "hs_analytics_first_timestamp" else ()
        if "hs_analytics_source" in src.columns and when:
            first_touch = EntitySpec(
                "touchpoints",
                _fields(
                    FieldSpec("touchpoint_id", template=f"hs-first-{{{id_col}}}"),
                    FieldSpec("occurred_at", source=when, fallback=later),
                    FieldSpec("contact_id", source=id_col),
                    _f("account_id", "associatedcompanyid", src),
                    FieldSpec("touch_type", const="first_touch"),
                    FieldSpec("channel", source="hs_analytics_source", values=SOURCE_CHANNELS),
                    _f("url", "hs_analytics_first_url", src),
                    FieldSpec("source", const="hubspot"),
                ),
                formats=_dates("occurred_at"), where="hs_analytics_source",
            )
        return [contact, _transitions(src, _LIFECYCLE_DATE, "contact", id_col), first_touch]

    def _companies(self, src: SourceFile, id_col: str) -> list[EntitySpec | None]:
        account = EntitySpec(
            "accounts",
            _fields(
                FieldSpec("account_id", source=id_col), _f("name", "name", src),
                _f("domain", _first_present(src, ("domain", "website")), src, transform="domain"),
                _f("industry", "industry", src), _f("employees", "numberofemployees", src),
                _f("annual_revenue", "annualrevenue", src), _f("country", "country", src),
                _f("region", "state", src), _f("owner_id", "hubspot_owner_id", src),
                _f("parent_account_id", "hs_parent_company_id", src),
                _f("created_at", "createdate", src), FieldSpec("source", const="hubspot"),
            ),
            custom=True, formats=_dates("created_at"), required=[id_col],
        )
        return [account, _transitions(src, _LIFECYCLE_DATE, "account", id_col)]

    def _deals(self, src: SourceFile, id_col: str) -> list[EntitySpec | None]:
        company = _first_present(src, ("associatedcompanyid", "associations.company",
                                       "Associated Company IDs"))
        deal = EntitySpec(
            "opportunities",
            _fields(
                FieldSpec("opportunity_id", source=id_col), _f("name", "dealname", src),
                _f("amount", "amount", src), _f("currency", "deal_currency_code", src),
                _f("stage", "dealstage", src),
                _f("opportunity_type", "dealtype", src, values=DEAL_TYPES),
                _f("owner_id", "hubspot_owner_id", src), _f("created_at", "createdate", src),
                _f("close_date", "closedate", src), _f("is_closed", "hs_is_closed", src),
                _f("is_won", "hs_is_closed_won", src),
                _f("lost_reason", "closed_lost_reason", src),
                _f("source_channel", "hs_analytics_source", src, values=SOURCE_CHANNELS),
                _f("account_id", company, src),
                _f("probability", "hs_deal_stage_probability", src, transform=_percent),
                FieldSpec("source", const="hubspot"),
            ),
            custom=True, formats=_dates("created_at", "close_date"), required=[id_col],
        )
        return [deal, _transitions(src, _DEAL_ENTERED, "opportunity", id_col)]

    def _engagements(self, src: SourceFile, id_col: str) -> list[EntitySpec | None]:
        when = _first_present(src, ("hs_timestamp", "timestamp", "engagement.timestamp",
                                    "hs_createdate", "createdate"))
        kind = _first_present(src, ("hs_engagement_type", "type", "engagement.type"))
        if when is None:
            raise InputFileError(str(src.path), "no timestamp column for HubSpot engagements: "
                                 "expected hs_timestamp or timestamp", code="missing_column")
        touch = EntitySpec(
            "touchpoints",
            _fields(
                FieldSpec("touchpoint_id", source=id_col), FieldSpec("occurred_at", source=when),
                _f("touch_type", kind, src, values=ENGAGEMENT_TYPES, transform="lower"),
                FieldSpec("channel", const="sales"),
                _f("contact_id", _first_present(src, ("associatedcontactid", "contact_id",
                                                      "associations.contactIds")), src),
                _f("account_id", _first_present(src, ("associatedcompanyid", "company_id",
                                                      "associations.companyIds")), src),
                FieldSpec("source", const="hubspot"),
            ),
            custom=True, formats=_dates("occurred_at"), required=[id_col, when],
        )
        return [touch]
