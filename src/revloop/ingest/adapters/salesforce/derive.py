"""Values computed from several source columns, added to each batch as ``__sf_*`` columns
(which the specs then read): lead conversion and status transitions, lost reason, campaign
member, activity time and type, user name and role, team type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from revloop.ingest.adapters.salesforce.columns import (
    Header,
    blank_to_null,
    classify,
    equals,
    is_true,
    map_values,
    not_before,
    null_text,
)
from revloop.ingest.adapters.salesforce.values import (
    LEAD_STATUS_STAGES,
    LOSS_REASON_FIELDS,
    TEAM_TYPE_RULES,
    USER_ROLE_RULES,
)

CREATED_AT = "__sf_created_at"  # CreatedDate as text, so all lead transitions share a type
CONVERTED_AT = "__sf_converted_at"
STATUS_STAGE = "__sf_status_stage"  # the lead's current status as a stage
STATUS_AT = "__sf_status_at"  # … and when it was set, at best (empty: no such transition)
LOST_REASON = "__sf_lost_reason"
MEMBER_ID = "__sf_member_id"
OCCURRED_AT = "__sf_occurred_at"
TOUCH_TYPE = "__sf_touch_type"
USER_NAME = "__sf_user_name"
USER_ROLE = "__sf_user_role"
TEAM_TYPE = "__sf_team_type"
EXTRA = "__sf_extra"  # the unmapped columns as one JSON object (→ custom / properties)

#: When a lead got its current status, at best: the last save, else the last activity.
STATUS_DATES = ("LastModifiedDate", "LastActivityDate", "CreatedDate")
TASK_DATES = ("CompletedDateTime", "ActivityDate", "CreatedDate")
EVENT_DATES = ("ActivityDateTime", "StartDateTime", "ActivityDate", "CreatedDate")


@dataclass(frozen=True)
class Options:
    """What an adapter instance may change about the mapping."""

    loss_reason_fields: tuple[str, ...] = LOSS_REASON_FIELDS
    lead_statuses: Mapping[str, str] = field(default_factory=lambda: dict(LEAD_STATUS_STAGES))


@dataclass(frozen=True)
class Frame:
    """One batch, its columns found by API name."""

    batch: pa.RecordBatch
    header: Header
    options: Options

    @property
    def n(self) -> int:
        return int(self.batch.num_rows)

    def text(self, api_name: str) -> pa.Array | None:
        """A column as text with blanks as NULL, or None when the file lacks it."""
        name = self.header.find(api_name)
        return None if name is None else blank_to_null(self.batch.column(name))

    def first(self, api_names: tuple[str, ...]) -> pa.Array:
        """Per row, the first non-empty of the columns the file has."""
        present = [a for a in (self.text(c) for c in api_names) if a is not None]
        if not present:
            return null_text(self.n)
        return present[0] if len(present) == 1 else pc.coalesce(*present)


def _conversion(f: Frame, created: pa.Array | None) -> pa.Array:
    """``ConvertedDate`` of converted leads, never before the lead's creation."""
    converted = f.text("ConvertedDate")
    if converted is None:
        return null_text(f.n)
    flag = f.text("IsConverted")
    if flag is not None:
        converted = pc.if_else(is_true(flag), converted, pa.scalar(None, pa.string()))
    return not_before(converted, created)


def _status(f: Frame, created: pa.Array | None, converted: pa.Array) -> dict[str, pa.Array]:
    """The current status as a stage and its best date; no date (no transition) for an
    empty status, an inquiry status (the creation says it) or a converted lead (the
    conversion says it, dated)."""
    status = f.text("Status")
    if status is None:
        return {STATUS_STAGE: null_text(f.n), STATUS_AT: null_text(f.n)}
    stage = map_values(status, f.options.lead_statuses)
    when = not_before(f.first(STATUS_DATES), created)
    skip = pc.or_(pc.fill_null(pc.equal(stage, "inquiry"), True), pc.is_valid(converted))
    return {STATUS_STAGE: stage,
            STATUS_AT: pc.if_else(skip, pa.scalar(None, pa.string()), when)}


def lead_columns(f: Frame) -> dict[str, pa.Array]:
    created = f.text("CreatedDate")
    converted = _conversion(f, created)
    return {CREATED_AT: null_text(f.n) if created is None else created,
            CONVERTED_AT: converted, **_status(f, created, converted)}


def opportunity_columns(f: Frame) -> dict[str, pa.Array]:
    return {LOST_REASON: f.first(f.options.loss_reason_fields)}


def member_columns(f: Frame) -> dict[str, pa.Array]:
    return {MEMBER_ID: f.first(("ContactId", "LeadId"))}


def task_columns(f: Frame) -> dict[str, pa.Array]:
    n = f.n
    subtype, kind = f.text("TaskSubtype"), f.text("Type")
    call = pc.or_(equals(subtype, "call", n), equals(kind, "call", n))
    email = pc.or_(pc.or_(equals(subtype, "email", n), equals(subtype, "listemail", n)),
                   equals(kind, "email", n))
    touch = pc.if_else(call, "call", pc.if_else(email, "email", "task"))
    return {OCCURRED_AT: f.first(TASK_DATES), TOUCH_TYPE: touch}


def event_columns(f: Frame) -> dict[str, pa.Array]:
    return {OCCURRED_AT: f.first(EVENT_DATES)}


def user_columns(f: Frame) -> dict[str, pa.Array]:
    """``Name``, else first and last name joined; the role from the title (or department)."""
    first, last = f.text("FirstName"), f.text("LastName")
    parts = [a for a in (first, last) if a is not None]
    joined = null_text(f.n)
    if parts:
        joined = pc.binary_join_element_wise(
            *[pc.fill_null(a, "") for a in parts], " ")
        joined = blank_to_null(pc.utf8_trim_whitespace(joined))
    name = f.text("Name")
    role = classify(f.first(("Title", "Department")), USER_ROLE_RULES, "other", f.n)
    return {USER_NAME: joined if name is None else pc.coalesce(name, joined), USER_ROLE: role}


def team_columns(f: Frame) -> dict[str, pa.Array]:
    return {TEAM_TYPE: classify(f.first(("Name", "DeveloperName")), TEAM_TYPE_RULES, None,
                                f.n)}
