"""HubSpot's values and their UI labels, mapped to the internal values revloop keeps.

Exports made from the CRM index pages ("Export all properties") write property LABELS as
values (``Marketing Qualified Lead``, ``Closed Won``, ``Paid Search``); the API and ELT tools
write the internal values (``marketingqualifiedlead``, ``closedwon``, ``PAID_SEARCH``). The
maps below turn the labels into the internal values so that both forms store the same rows
(keys are matched trimmed and case-insensitively; values no map knows pass through).
"""

from __future__ import annotations

#: Default lifecycle stages (contacts and companies): label → internal value.
LIFECYCLE_LABELS: dict[str, str | None] = {
    "Subscriber": "subscriber", "Lead": "lead",
    "Marketing Qualified Lead": "marketingqualifiedlead",
    "Sales Qualified Lead": "salesqualifiedlead", "Opportunity": "opportunity",
    "Customer": "customer", "Evangelist": "evangelist", "Other": "other",
}
#: Stages of the default sales pipeline: label → internal stage id.
DEAL_STAGE_LABELS: dict[str, str | None] = {
    "Appointment Scheduled": "appointmentscheduled", "Qualified To Buy": "qualifiedtobuy",
    "Presentation Scheduled": "presentationscheduled",
    "Decision Maker Bought-In": "decisionmakerboughtin", "Contract Sent": "contractsent",
    "Closed Won": "closedwon", "Closed Lost": "closedlost",
}
#: Original Traffic Source (``hs_analytics_source``): label → internal value.
SOURCE_LABELS: dict[str, str | None] = {
    "Organic Search": "ORGANIC_SEARCH", "Paid Search": "PAID_SEARCH",
    "Email Marketing": "EMAIL_MARKETING", "Social Media": "SOCIAL_MEDIA",
    "Organic Social": "SOCIAL_MEDIA", "Paid Social": "PAID_SOCIAL", "Referrals": "REFERRALS",
    "Direct Traffic": "DIRECT_TRAFFIC", "Other Campaigns": "OTHER_CAMPAIGNS",
    "Offline Sources": "OFFLINE", "AI Referrals": "AI_REFERRALS",
}
#: Lead status (``hs_lead_status``): label → internal value.
LEAD_STATUS_LABELS: dict[str, str | None] = {
    "New": "NEW", "Open": "OPEN", "In Progress": "IN_PROGRESS", "Open Deal": "OPEN_DEAL",
    "Unqualified": "UNQUALIFIED", "Attempted to Contact": "ATTEMPTED_TO_CONTACT",
    "Connected": "CONNECTED", "Bad Timing": "BAD_TIMING",
}

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
#: Channel of a source, whichever form it is written in.
SOURCE_OR_LABEL_CHANNELS: dict[str, str | None] = {
    **SOURCE_CHANNELS,
    **{label: SOURCE_CHANNELS[value] for label, value in SOURCE_LABELS.items() if value},
}
DEAL_TYPES: dict[str, str | None] = {
    "newbusiness": "new", "existingbusiness": "expansion", "renewal": "renewal",
    "New Business": "new", "Existing Business": "expansion",
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
OPEN_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent")
CLOSED_STAGES = ("closedwon", "closedlost")
DEAL_CLOSED: dict[str, str | None] = {
    **dict.fromkeys(OPEN_STAGES, "false"), "closedwon": "true", "closedlost": "true",
}
DEAL_WON: dict[str, str | None] = {
    **dict.fromkeys(OPEN_STAGES, "false"), "closedwon": "true", "closedlost": "false",
}
#: Lifecycle stages before which no other default stage comes (a reconstructed history of a
#: record in one of them is that stage alone).
LIFECYCLE_ENTRY_STAGES = ("subscriber", "lead")
#: The stage a reconstructed history starts with (see the package docstring).
LIFECYCLE_ENTRY = "lead"
DEAL_ENTRY = "appointmentscheduled"


def with_labels(internal: dict[str, str | None], labels: dict[str, str | None]
                ) -> dict[str, str | None]:
    """``internal`` (keyed by internal values) also keyed by the labels of those values."""
    out = dict(internal)
    for label, value in labels.items():
        if value is not None and value in internal:
            out[label] = internal[value]
    return out
