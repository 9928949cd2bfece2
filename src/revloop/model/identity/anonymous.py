"""``int_anonymous_identities``: anonymous visitor ids stitched to the person they turn out to be.

A touch that carries both an ``anonymous_id`` and a ``contact_id`` identifies the visitor. The
first such touch (earliest ``occurred_at``, then smallest ``touchpoint_id``) decides: the
anonymous id belongs to that touch's person — their surviving id after the merges — from then
on and before, so the visitor's earlier anonymous touches become theirs in the touchpoints mart.
"""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step

_TOUCHPOINTS = tables.staging(tables.TOUCHPOINTS)


def anonymous_identities(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """``anonymous_id`` → the (surviving) ``contact_id`` its first identifying touch names."""
    touchpoints = inputs[_TOUCHPOINTS]
    merges = inputs[tables.INT_CONTACT_MERGES]
    links = touchpoints.filter(_.anonymous_id.notnull() & _.contact_id.notnull())
    w = ibis.window(group_by=links.anonymous_id,
                    order_by=[links.occurred_at, links.touchpoint_id])
    first = links.select(
        _.anonymous_id, _.contact_id, identified_at=_.occurred_at,
        rank=ibis.row_number().over(w),
    ).filter(_.rank == 0).drop("rank")
    return first.left_join(merges, "contact_id").select(
        first.anonymous_id, first.identified_at,
        contact_id=ibis.coalesce(merges.canonical_contact_id, first.contact_id),
    )


STEP = Step(
    name=tables.INT_ANONYMOUS_IDENTITIES, inputs=(_TOUCHPOINTS, tables.INT_CONTACT_MERGES),
    build=anonymous_identities,
    doc="every anonymous id → the person its first identifying touch names",
)
