"""The marts: what analytics read, one per canonical entity plus the derived ones.

Identity resolution (:mod:`revloop.model.identity`) rewrites the people-facing marts:
``contacts`` (survivors only, account resolved), ``touchpoints`` (stitched and re-pointed),
``stage_transitions``, ``opportunity_contacts`` and ``campaign_members`` (re-pointed, original
ids kept). ``opportunities`` gains its amount in the corporate currency (:mod:`.money`).
Every other entity's mart is its staging table. ``opportunity_enhanced`` and
``data_issues`` are derived from the marts.
"""

from __future__ import annotations

from revloop.model.marts import (
    contacts,
    data_issues,
    money,
    opportunity_enhanced,
    passthrough,
    roles,
    touchpoints,
    transitions,
)
from revloop.model.steps import Step

_RESOLVED: tuple[Step, ...] = (contacts.STEP, touchpoints.STEP, transitions.STEP, *roles.STEPS,
                               money.STEP)

#: Every mart step: the marts identity resolution rewrites, the copies, the derived marts.
STEPS: tuple[Step, ...] = (
    *_RESOLVED,
    *passthrough.steps({step.name for step in _RESOLVED}),
    opportunity_enhanced.STEP,
    data_issues.STEP,
)
