"""People's roles re-pointed to the surviving person: deal roles and campaign memberships.

``opportunity_contacts`` and ``campaign_members`` name a ``contact_id``; it becomes the
surviving id, and the id as imported is kept in ``original_contact_id``.
"""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step

#: The marts whose ``contact_id`` is re-pointed to the surviving person.
ROLE_MARTS = (tables.OPPORTUNITY_CONTACTS, tables.CAMPAIGN_MEMBERS)


def remap_contact(table: ibis.Table, column: str, merges: ibis.Table) -> ibis.Table:
    """``table`` with ``column`` (a contact id) re-pointed to the survivor, the original kept."""
    m = merges.select(mc=_.contact_id, canonical=_.canonical_contact_id)
    out = table.left_join(m, table[column] == m.mc)
    return out.mutate(**{
        f"original_{column}": out[column],
        column: ibis.coalesce(out.canonical, out[column]),
    }).drop("mc", "canonical")


def _step(mart: str) -> Step:
    source = tables.staging(mart)

    def build(inputs: Inputs, options: BuildOptions) -> ibis.Table:
        return remap_contact(inputs[source], "contact_id", inputs[tables.INT_CONTACT_MERGES])

    build.__doc__ = f"``{mart}`` with ``contact_id`` re-pointed to the surviving person."
    return Step(name=mart, inputs=(source, tables.INT_CONTACT_MERGES), build=build,
                doc=f"{mart}, contact_id re-pointed to the surviving person (original kept)")


STEPS: tuple[Step, ...] = tuple(_step(mart) for mart in ROLE_MARTS)
