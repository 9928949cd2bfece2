"""The ``opportunity_enhanced`` mart: each deal with its account, owner, campaign and roles."""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step
from revloop.store.queries import DAY_SECONDS, epoch_seconds

_INPUTS = (tables.OPPORTUNITIES, tables.ACCOUNTS, tables.USERS, tables.CAMPAIGNS,
           tables.OPPORTUNITY_CONTACTS)


def opportunity_enhanced(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """Opportunities with account and owner attributes, the primary campaign, the number of
    contact roles, and ``cycle_days`` (created → close date) for closed deals."""
    opps, accounts, users, campaigns, roles = (inputs[name] for name in _INPUTS)
    a = accounts.select(a_id=_.account_id, account_name=_.name, account_industry=_.industry,
                        account_country=_.country, account_employees=_.employees)
    u = users.select(u_id=_.user_id, owner_name=_.name, owner_team_id=_.team_id)
    c = campaigns.select(c_id=_.campaign_id, primary_campaign_name=_.name,
                         primary_campaign_channel=_.channel)
    r = roles.group_by(r_id=_.opportunity_id).agg(contact_roles=_.count())
    o = (
        opps.left_join(a, opps.account_id == a.a_id).drop("a_id")
        .left_join(u, _.owner_id == u.u_id).drop("u_id")
        .left_join(c, _.primary_campaign_id == c.c_id).drop("c_id")
        .left_join(r, _.opportunity_id == r.r_id).drop("r_id")
    )
    days = (epoch_seconds(o.close_date.cast("timestamp"))
            - epoch_seconds(o.created_at)) / DAY_SECONDS
    return o.mutate(
        contact_roles=ibis.coalesce(o.contact_roles, 0),
        cycle_days=ibis.ifelse(o.is_closed == True, days, ibis.null("float64")),  # noqa: E712
    )


STEP = Step(
    name=tables.OPPORTUNITY_ENHANCED, inputs=_INPUTS, build=opportunity_enhanced,
    doc="each opportunity with account, owner, primary campaign, role count and cycle days",
)
