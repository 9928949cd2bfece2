"""Salesforce files with API field names: a Data Export (the weekly zip of one CSV per
object), Data Loader or Workbench exports, and the tables ELT tools sync (Fivetran, Airbyte).

Which object a file holds comes from its name (``Lead.csv``, ``leads.csv``,
``Opportunity_2024.csv``, ``OpportunityHistory.csv``, ``campaign_members.csv``, Fivetran's
``opportunity_history``, ``user_role`` …) or from ``--entity`` (the object's API name, any
case). An ELT tool's table must be named exactly after its object (so ``opportunity_line_item``
is refused rather than read as an opportunity). Each object yields, primary entity first:

==========================  ==============================================================
Lead                        contacts (record_type ``lead``) + stage_transitions (``lead``)
Contact                     contacts (record_type ``contact``)
Account                     accounts
Opportunity                 opportunities
OpportunityHistory          stage_transitions (``opportunity``), ``Id`` → transition_id
OpportunityContactRole      opportunity_contacts
Campaign                    campaigns
CampaignMember              campaign_members
Task, Event                 touchpoints (channel ``outbound_sales``)
User                        users
UserRole                    teams
DatedConversionRate         currency_rates (dated: start_date, next_start_date)
CurrencyType                currency_rates (standing rate: start_date empty; is_corporate)
==========================  ==============================================================

Headers are matched whatever their case and separators: ``StageName``, ``STAGENAME``,
``stagename`` and Fivetran's ``stage_name`` are the same column, ``LossReason__c`` and
Fivetran's ``loss_reason_c`` too. Source columns with no canonical home go to ``custom``
(``properties`` for touchpoints) under the file's own names; entities without such a bag
(stage_transitions, opportunity_contacts, campaign_members, users, teams, currency_rates) drop
them. Decisions worth knowing:

* Layouts (``SalesforceAdapter(entity, layout)``; ``layout`` ``fivetran`` / ``airbyte``, None:
  told by the header's ``_fivetran_*`` / ``_airbyte_*`` columns): the tools' sync columns are
  never imported. Fivetran writes one snake_case table per object with snake_case columns;
  Airbyte's streams and columns keep the API names.
* Deleted rows are skipped in :meth:`SalesforceAdapter.prepare`: ``IsDeleted`` true (a Data
  Loader "Export All"), ``_fivetran_deleted`` true, or ``_fivetran_active`` false (an older
  version kept by Fivetran's history mode). They are not read, so not in the reconciliation;
  the file's notices say how many were skipped.
* Salesforce's empty lookup id ``000000000000000AAA`` (and the 15-character
  ``000000000000000``) is NULL in every text column: no phantom parents, campaigns, converted
  contacts or owners.
* Dates: Salesforce writes ``2024-03-05T14:22:10.000+0000`` / ``…Z`` and ``2024-03-05``; the
  default ``iso`` format parses all of them (zoned values become naive UTC).
* Lead ``converted_at`` is ``ConvertedDate`` when ``IsConverted`` is true (or absent).
  ``ConvertedDate`` has no time of day: when it is on or before the day of ``CreatedDate`` —
  written ``2022-12-21`` or ``2022-12-21 00:00:00`` — the lead's ``CreatedDate`` is used, so
  a conversion never precedes the lead's creation (ISO-written dates; other orders are the
  date planner's).
* Lead transitions: ``inquiry`` at ``CreatedDate`` (a lead without one gets none; a file
  without the column says so in a notice), ``converted`` at ``converted_at``, and — the
  export has no status history — one transition for the current ``Status`` with
  ``reconstructed`` true, dated by ``LastModifiedDate``, else ``LastActivityDate``, else
  ``CreatedDate``. The status is written as the funnel's stage (:data:`LEAD_STATUS_STAGES`:
  Open - Not Contacted / Open / New → inquiry (no extra row), Working - Contacted / Working /
  Contacted → ``sal``, Nurturing / Nurture → ``recycled``, Qualified → ``sql``, Closed -
  Converted → ``converted``, Closed - Not Converted / Unqualified / Disqualified →
  ``disqualified``); any other status is written as it is, for ``[funnel.values]`` to map.
  Converted leads get no status row (their conversion row says it, dated).
  ``from_stage`` stays empty (the funnel derives it).
* OpportunityHistory holds one row per save that changed stage, amount, probability or close
  date; every row is kept by its own ``Id`` (``transition_id``), also two saved in one second.
* Opportunity ``Type`` (:data:`OPPORTUNITY_TYPE_VALUES`): New Customer / New Business / New
  Logo → new; Existing Business, Existing Customer - Upgrade, Upgrade, Expansion, Add-On,
  Cross-Sell, Upsell → expansion; Renewal, Existing Customer - Replacement / Downgrade →
  renewal; another value starting with ``Existing`` → expansion (never new business); anything
  else leaves ``opportunity_type`` empty. The raw ``Type`` is always kept in ``custom``.
* ``lost_reason`` is the first non-empty of the loss-reason fields
  (:data:`LOSS_REASON_FIELDS`: ``LossReason__c``, ``Loss_Reason__c``, ``Lost_Reason__c``,
  ``Closed_Lost_Reason__c``, ``Reason_Lost__c``, ``LossReason``; the constructor's
  ``loss_reason_fields`` replaces the list). ``CurrencyIsoCode`` is ``currency`` as written.
* User: ``name`` is ``Name``, else first and last name; ``role`` from ``Title`` (else
  ``Department``) by keyword (SDR/BDR → sdr, customer success → csm, marketing → marketer,
  account executive/manager → rep, manager/director/VP/head → manager, sales → rep, else
  other); ``team_id`` is ``UserRoleId``, ``manager_id`` ``ManagerId``, ``is_active``
  ``IsActive``. UserRole: ``team_id`` ``Id``, ``name`` ``Name``, ``team_type`` by keyword of
  the name (sdr, customer_success, marketing, sales), ``manager_id`` ``ForecastUserId``;
  ``ParentRoleId`` has no canonical home.
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
* Required header columns: ``Id`` for the objects keyed by it (a Lead file needs nothing
  else); OpportunityHistory ``OpportunityId``, ``StageName``, ``CreatedDate``;
  OpportunityContactRole ``OpportunityId``, ``ContactId``; CampaignMember ``CampaignId`` and
  ``ContactId`` or ``LeadId``; Task/Event ``Id`` and one of their date columns;
  DatedConversionRate and CurrencyType ``IsoCode``, ``ConversionRate``.

Values computed from several source columns are added to each batch by
:meth:`SalesforceAdapter.prepare` as ``__sf_*`` columns (:mod:`.derive`), which the specs
(:mod:`.objects`, in API names, resolved against each file's header) then read.
"""

from __future__ import annotations

from revloop.ingest.adapters.salesforce.adapter import LAYOUTS, SalesforceAdapter
from revloop.ingest.adapters.salesforce.columns import EMPTY_IDS
from revloop.ingest.adapters.salesforce.objects import ALIASES, OBJECT_BY_NAME, OBJECTS, SOURCE
from revloop.ingest.adapters.salesforce.values import (
    CAMPAIGN_CHANNELS,
    LEAD_STATUS_STAGES,
    LOSS_REASON_FIELDS,
    OPPORTUNITY_TYPE_VALUES,
)

__all__ = [
    "ALIASES",
    "CAMPAIGN_CHANNELS",
    "EMPTY_IDS",
    "LAYOUTS",
    "LEAD_STATUS_STAGES",
    "LOSS_REASON_FIELDS",
    "OBJECTS",
    "OBJECT_BY_NAME",
    "OPPORTUNITY_TYPE_VALUES",
    "SOURCE",
    "SalesforceAdapter",
]
