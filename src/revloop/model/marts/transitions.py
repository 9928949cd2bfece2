"""The ``stage_transitions`` mart: people's stage history moved to their surviving id.

Transitions of leads and contacts are re-pointed to the surviving person; the id they were
recorded under is kept in ``original_entity_id``, so merged people keep both histories.
Transitions of accounts and opportunities are unchanged (``original_entity_id`` = ``entity_id``).
``amount_corporate`` is the amount in the corporate currency (see :mod:`.money`).
"""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step

_TRANSITIONS = tables.staging(tables.STAGE_TRANSITIONS)
#: The entity types whose ids are people (re-pointed by the merges).
PEOPLE = ("lead", "contact")


def transitions_mart(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """Stage transitions with people re-pointed to the survivor and ``original_entity_id``."""
    transitions = inputs[_TRANSITIONS]
    merges = inputs[tables.INT_CONTACT_MERGES]
    m = merges.select(mc=_.contact_id, canonical=_.canonical_contact_id)
    # Joined on the id alone (contact_id is unique in the merges, so no row is doubled) and the
    # entity type checked after: a type test inside the ON clause of a left join makes
    # DuckDB fall back to a nested-loop join, quadratic in the rows (9 s at SF0.1).
    t = transitions.left_join(m, transitions.entity_id == m.mc)
    people = t.entity_type.isin(list(PEOPLE))
    t = t.mutate(
        original_entity_id=t.entity_id,
        entity_id=ibis.ifelse(people, ibis.coalesce(t.canonical, t.entity_id), t.entity_id),
    ).drop("mc", "canonical")
    return _with_amount_corporate(t, inputs[tables.OPPORTUNITIES])


def _with_amount_corporate(t: ibis.Table, opps: ibis.Table) -> ibis.Table:
    """``amount_corporate``: an opportunity's amounts at the deal's own rate (so its history
    and its final amount convert alike); other entities' amounts carry no currency and stay."""
    o = opps.select(fx_id=_.opportunity_id, fx=_.fx_rate)
    j = t.left_join(o, t.entity_id == o.fx_id)  # an equi-join (see above); ids are unique
    converted = j.amount.cast("float64") / j.fx
    return j.mutate(amount_corporate=ibis.ifelse(
        j.entity_type == "opportunity", converted, j.amount.cast("float64"))).drop("fx_id", "fx")


STEP = Step(
    name=tables.STAGE_TRANSITIONS,
    inputs=(_TRANSITIONS, tables.INT_CONTACT_MERGES, tables.OPPORTUNITIES),
    build=transitions_mart,
    doc="stage history, people re-pointed to their surviving id (original id kept)",
)
