"""Which HubSpot table a file holds, from ``--entity`` or its name.

Accepted names: the object (``contacts.csv``, ``company.csv``, ``deals-2024.csv``), HubSpot's
own export names (``all-contacts.csv``, ``hubspot-crm-exports-all-deals-2024-03-05.csv``,
``hubspot-crm-exports-my-contacts-2024-03-05-1.csv`` — also as members of the zipped export
once unpacked), Fivetran's table names (``contact``, ``deal_stage``, ``deal_company``,
``engagement_call``…) and Airbyte's stream names (``contacts``, ``engagements_calls``…).
"""

from __future__ import annotations

import re
from pathlib import Path

from revloop.errors import InputFileError
from revloop.ingest.adapters.base import match_object, names_the_object, object_name

OBJECTS = ("contacts", "companies", "deals", "engagements")
#: Association tables: read with the object they belong to, nothing stored on their own.
ASSOCIATIONS = ("deal_company", "contact_company", "engagement_contact", "engagement_company",
                "engagement_deal")
ENGAGEMENT_KINDS = ("call", "email", "meeting", "note", "task")

ALIASES: dict[str, str] = {
    "contacts": "contacts", "contact": "contacts",
    "companies": "companies", "company": "companies",
    "deals": "deals", "deal": "deals",
    "engagements": "engagements", "engagement": "engagements",
    "deal_stage": "deal_stage", "deal_contact": "deal_contact",
    **{a: a for a in ASSOCIATIONS},
    **{f"engagement_{k}": f"engagement_{k}" for k in ENGAGEMENT_KINDS},  # Fivetran
    **{f"engagements_{k}s": f"engagement_{k}" for k in ENGAGEMENT_KINDS},  # Airbyte
}
_EXPORT_PREFIX = "hubspot-crm-exports-"


def table_of(path: Path, explicit: str | None) -> str:
    """The table (an object, ``deal_stage``, an association…) ``path`` holds."""
    if explicit:
        return match_object(path, ALIASES, explicit, "HubSpot")
    stem = object_name(path)
    if stem in ALIASES:
        return ALIASES[stem]
    try:
        return match_object(path, ALIASES, None, "HubSpot")
    except InputFileError:
        found = _export_name(stem)
        if found is None:
            raise
        return found


def _export_name(stem: str) -> str | None:
    """The table a longer name names as one of its words (``all-contacts``,
    ``hubspot-crm-exports-all-deals-2024-03-05``, a warehouse's ``hubspot_deal_stage``): the
    longest table name found between separators."""
    stem = stem.removeprefix(_EXPORT_PREFIX)
    for alias in sorted(ALIASES, key=len, reverse=True):
        found = re.search(rf"(?:^|[-_.\s]){re.escape(alias)}(?:$|[-_.\s])", stem)
        if found and names_the_object(stem[found.end(0):]):
            return ALIASES[alias]
    return None


def layout_of_table(table: str, stem: str) -> str | None:
    """The ELT layout a table name alone gives away (None: the name does not tell)."""
    if table.startswith("engagement_") and "engagements_" in stem:
        return "airbyte"
    if table in ("deal_stage", "deal_contact", *ASSOCIATIONS) or table.startswith(
            "engagement_"):
        return "fivetran"
    return None
