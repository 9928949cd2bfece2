"""The value maps of the Salesforce adapter: opportunity types, campaign channels, lead
statuses, the loss-reason fields and how titles and role names become user roles and team
types."""

from __future__ import annotations

#: Opportunity ``Type`` → new / expansion / renewal. The default picklist is ``New Customer``
#: and ``Existing Customer - Upgrade / Replacement / Downgrade``; many orgs use ``New
#: Business`` / ``Existing Business`` / ``Renewal`` / ``Upgrade`` / ``Add-On`` / ``Cross-Sell``
#: / ``Upsell``. Business with an existing customer is never new business: ``Existing
#: Business`` is expansion, a downgrade or replacement re-signs the contract (renewal), and any
#: other value starting with ``Existing`` is expansion. Other values leave the type empty.
OPPORTUNITY_TYPE_VALUES: dict[str, str | None] = {
    "New Business": "new",
    "New Customer": "new",
    "New Logo": "new",
    "New": "new",
    "Existing Business": "expansion",
    "Existing Customer - Upgrade": "expansion",
    "Existing Customer - Expansion": "expansion",
    "Upgrade": "expansion",
    "Expansion": "expansion",
    "Add-On": "expansion",
    "Add-On Business": "expansion",
    "Add On": "expansion",
    "Addon": "expansion",
    "Cross-Sell": "expansion",
    "Cross Sell": "expansion",
    "Upsell": "expansion",
    "Up-Sell": "expansion",
    "Existing Customer - Replacement": "renewal",
    "Existing Customer - Downgrade": "renewal",
    "Existing Customer - Renewal": "renewal",
    "Renewal": "renewal",
    "Downgrade": "renewal",
}
#: Values not in the map that start with this (lower case) are expansion.
EXISTING_PREFIX = "existing"

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

#: Lead ``Status`` → the stage its current-status transition gets (the funnel's stage, exit
#: or the adapter's ``converted``, which the funnel counts as SQL). Matched trimmed and
#: case-insensitively; a status not listed is written as it is, for ``[funnel.values]`` to
#: map. ``inquiry`` statuses add nothing to the lead's ``inquiry`` at ``CreatedDate``.
LEAD_STATUS_STAGES: dict[str, str] = {
    "Open - Not Contacted": "inquiry",
    "Open": "inquiry",
    "New": "inquiry",
    "Working - Contacted": "sal",
    "Working": "sal",
    "Contacted": "sal",
    "Nurturing": "recycled",
    "Nurture": "recycled",
    "Qualified": "sql",
    "Closed - Converted": "converted",
    "Converted": "converted",
    "Closed - Not Converted": "disqualified",
    "Unqualified": "disqualified",
    "Disqualified": "disqualified",
}

#: Opportunity fields tried in order for ``lost_reason`` (Salesforce has no standard one;
#: these are the common custom fields). Whichever are present are not copied into custom.
LOSS_REASON_FIELDS: tuple[str, ...] = (
    "LossReason__c", "Loss_Reason__c", "Lost_Reason__c", "Closed_Lost_Reason__c",
    "Reason_Lost__c", "LossReason",
)

#: User ``Title`` (else ``Department``) → ``users.role``: the first pattern that matches the
#: lower-case text wins; a title none matches is ``other``.
USER_ROLE_RULES: tuple[tuple[str, str], ...] = (
    (r"\b(sdr|bdr|sales development|business development)", "sdr"),
    (r"\b(csm|customer success|customer experience)", "csm"),
    (r"market", "marketer"),
    (r"\b(account executive|account manager|ae)\b", "rep"),
    (r"\b(manager|director|head|vp|vice president|chief|cro|ceo|coo|president|lead)\b",
     "manager"),
    (r"\b(sales|rep|representative|seller|executive)\b", "rep"),
)

#: UserRole ``Name`` → ``teams.team_type``; a role name none matches leaves it empty.
TEAM_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"\b(sdr|bdr|sales development|business development)", "sdr"),
    (r"\b(csm|customer success|customer experience|support)", "customer_success"),
    (r"market", "marketing"),
    (r"\b(sales|account|ae|aes|revenue|ceo|cro)\b", "sales"),
)
