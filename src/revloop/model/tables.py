"""The names of every table the model build writes, in one place.

Analytics, the facade and the interfaces name marts through these constants, never as string
literals, so renaming a table is one edit and a reader can find every user of a mart with a
search for its constant. Layers in the names: ``raw_<entity>`` (what imports land in),
``stg_<entity>`` (normalised), ``int_<purpose>`` (identity resolution), and marts by business
name (one per canonical entity, with the entity's own name, plus the derived ones below).
"""

from __future__ import annotations

from revloop.schema import ENTITIES

# -- marts: one per canonical entity, named as the entity ----------------------------------
ACCOUNTS = "accounts"
CONTACTS = "contacts"
OPPORTUNITIES = "opportunities"
CURRENCY_RATES = "currency_rates"
OPPORTUNITY_CONTACTS = "opportunity_contacts"
STAGE_TRANSITIONS = "stage_transitions"
TOUCHPOINTS = "touchpoints"
CAMPAIGNS = "campaigns"
CAMPAIGN_SPEND = "campaign_spend"
CAMPAIGN_MEMBERS = "campaign_members"
CONTENT = "content"
USERS = "users"
TEAMS = "teams"
QUOTAS = "quotas"
INTENT_SIGNALS = "intent_signals"
TECHNOGRAPHICS = "technographics"

# -- derived marts -------------------------------------------------------------------------
OPPORTUNITY_ENHANCED = "opportunity_enhanced"
DATA_ISSUES = "data_issues"

# -- identity resolution (intermediate layer) ----------------------------------------------
INT_CONTACT_CONVERSIONS = "int_contact_conversions"
INT_CONTACT_MERGES = "int_contact_merges"
INT_CONTACT_ACCOUNTS = "int_contact_accounts"
INT_ANONYMOUS_IDENTITIES = "int_anonymous_identities"

#: The lock one build at a time holds (see ``Store.lock``).
BUILD_LOCK = "build"

#: Every entity mart (the canonical entities, in schema order).
ENTITY_MARTS: tuple[str, ...] = tuple(e.name for e in ENTITIES)
#: Every mart the build writes.
MARTS: tuple[str, ...] = (*ENTITY_MARTS, OPPORTUNITY_ENHANCED, DATA_ISSUES)


def raw(entity: str) -> str:
    """The table an import of ``entity`` lands in."""
    return f"raw_{entity}"


def staging(entity: str) -> str:
    """The staging table of ``entity`` (normalised, bookkeeping columns dropped)."""
    return f"stg_{entity}"


def _check() -> None:
    # the constants above must name exactly the schema's entities
    named = {v for k, v in globals().items() if k.isupper() and isinstance(v, str)}
    missing = set(ENTITY_MARTS) - named
    if missing:  # pragma: no cover - caught by the tests on any schema change
        raise RuntimeError(f"model.tables has no constant for {sorted(missing)}")


_check()
