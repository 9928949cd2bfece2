"""Attributes of each entity the funnel can be cut by (channel, campaign, segment, owner …).

Every dimension is one value per entity (lead, account or opportunity), computed on the
engine. Missing values are reported as ``(none)``.

* ``channel`` — first-touch channel: the channel of the entity's earliest touchpoint (ties: the
  alphabetically first channel); for a lead without touches its lead source; for an account,
  the lead source of its earliest person; for an opportunity its source channel, else its
  primary campaign's channel.
* ``lead_source`` — the source system's lead source (an account: of its earliest person; an
  opportunity: its source channel).
* ``campaign`` — first-touch campaign (earliest touch that names one; a lead without: its
  earliest campaign membership); an opportunity's primary campaign.
* ``segment`` — size band of the account by employees (``funnel.segments``).
* ``industry``, ``country`` — of the account (country: the person's first).
* ``owner``, ``team`` — the owning user and that user's team.
* ``product`` — product of the earliest new-business opportunity (of the person's deals, the
  account's deals, or the opportunity itself).
* ``custom.<key>`` — a top-level key of the level's ``custom`` JSON attributes (read with a
  regular expression that is the same on every engine; string values lose their quotes but
  keep JSON escapes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import ibis
from ibis import _

from revloop.analytics.funnel.request import Level, custom_key
from revloop.store import Store

NONE = "(none)"
#: Columns every dimension table carries (the stalled list shows them).
ALWAYS = ("owner", "team")


def dim_col(dimension: str) -> str:
    """Column name of a dimension in the journey table."""
    return "d_" + re.sub(r"[^a-z0-9_]", "_", dimension.lower())


def label_col(dimension: str) -> str:
    """Column holding a readable label of a dimension value (owner, team, campaign)."""
    return dim_col(dimension) + "__label"


LABELLED = ("owner", "team", "campaign")


def _first_by(table: Any, key: str, at: str, value: str) -> Any:
    """Per ``key`` (as ``k``): the ``value`` (as ``v``) of the earliest ``at``, ties broken by
    the smallest value. (A minimum and a join back: faster than an ordered ``argmin`` on
    every engine measured.)"""
    t = table.filter(table[key].notnull() & table[value].notnull() & table[at].notnull())
    first = t.group_by(_k=t[key]).agg(_t=t[at].min())
    j = t.join(first, (t[key] == first._k) & (t[at] == first._t))
    return j.group_by(k=j._k).agg(v=j[value].min())


def _segment(employees: Any, segments: Mapping[str, int]) -> Any:
    bands = sorted(segments.items(), key=lambda kv: kv[1], reverse=True)
    return ibis.cases(*[(employees >= low, name) for name, low in bands],
                      else_=ibis.null("string"))


def _custom_value(custom: Any, key: str) -> Any:
    pattern = r'"' + re.escape(key).replace('"', r'\"') + r'"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\s]+)'
    raw = custom.re_extract(pattern, 1)
    raw = ibis.ifelse(raw == "", ibis.null("string"), raw)
    quoted = raw.startswith('"')
    unquoted = raw.substr(1, raw.length() - 2)
    value = ibis.ifelse(quoted, unquoted, raw)
    return ibis.ifelse(value == "null", ibis.null("string"), value)


def dimension_table(store: Store, level: Level, dimensions: Sequence[str],
                    segments: Mapping[str, int]) -> Any:
    """``entity_id`` and one ``d_<dimension>`` column per requested dimension (plus owner,
    team and their labels)."""
    dims = list(dict.fromkeys([*ALWAYS, *dimensions]))
    accounts = store.table("accounts")
    users = store.table("users").select(u_id=_.user_id, u_name=_.name, u_team=_.team_id)
    teams = store.table("teams").select(t_id=_.team_id, t_name=_.name)
    if level == "lead":
        base = store.table("contacts").select(
            entity_id=_.contact_id, account_id=_.account_id, owner_id=_.owner_id,
            lead_source=_.lead_source, p_country=_.country, custom=_.custom)
    elif level == "account":
        base = accounts.select(entity_id=_.account_id, account_id=_.account_id,
                               owner_id=_.owner_id, custom=_.custom)
    else:
        base = store.table("opportunities").select(
            entity_id=_.opportunity_id, account_id=_.account_id, owner_id=_.owner_id,
            product=_.product, source_channel=_.source_channel,
            primary_campaign_id=_.primary_campaign_id, opportunity_type=_.opportunity_type,
            custom=_.custom)
    acc = accounts.select(a_id=_.account_id, a_industry=_.industry, a_employees=_.employees,
                          a_country=_.country)
    t = base.left_join(acc, base.account_id == acc.a_id).drop("a_id")
    t = t.left_join(users, t.owner_id == users.u_id).drop("u_id")
    t = t.left_join(teams, t.u_team == teams.t_id).drop("t_id")
    cols: dict[str, Any] = {"entity_id": t.entity_id}
    needs = set(dims)
    if needs & {"channel", "lead_source"}:
        t = _with_sources(store, level, t)
    if "campaign" in needs:
        c = _campaign(store, level, t)
        t = t.left_join(c, t.entity_id == c.k).drop("k")
    if "product" in needs and level != "opportunity":
        pr = _product(store, level)
        t = t.left_join(pr, t.entity_id == pr.k).drop("k")
    elif "product" in needs:
        t = t.mutate(x_product=t.product)
    for d in dims:
        key = custom_key(d)
        if key is not None:
            cols[dim_col(d)] = _custom_value(t.custom, key)
        elif d == "owner":
            cols[dim_col(d)] = t.owner_id
            cols[label_col(d)] = t.u_name
        elif d == "team":
            cols[dim_col(d)] = t.u_team
            cols[label_col(d)] = t.t_name
        elif d == "segment":
            cols[dim_col(d)] = _segment(t.a_employees, segments)
        elif d == "industry":
            cols[dim_col(d)] = t.a_industry
        elif d == "country":
            cols[dim_col(d)] = (ibis.coalesce(t.p_country, t.a_country) if level == "lead"
                                else t.a_country)
        elif d == "opportunity_type":
            cols[dim_col(d)] = (ibis.coalesce(t.opportunity_type, "new")
                                if level == "opportunity" else ibis.null("string"))
        elif d in ("channel", "lead_source", "campaign", "product"):
            cols[dim_col(d)] = t[f"x_{d}"]
            if d == "campaign":
                cols[label_col(d)] = t.x_campaign_name
    out = t.select(**cols)
    fill = {c: ibis.coalesce(out[c], NONE) for c in out.columns
            if c.startswith("d_") and not c.endswith("__label")}
    return out.mutate(**fill)


def _with_sources(store: Store, level: Level, t: Any) -> Any:
    """``t`` with ``x_channel`` and ``x_lead_source``."""
    if level == "opportunity":
        camps = store.table("campaigns").select(c_id=_.campaign_id, c_channel=_.channel)
        t = t.left_join(camps, t.primary_campaign_id == camps.c_id).drop("c_id")
        return t.mutate(x_channel=ibis.coalesce(t.source_channel, t.c_channel),
                        x_lead_source=t.source_channel).drop("c_channel")
    key = "contact_id" if level == "lead" else "account_id"
    first = _first_by(store.table("touchpoints"), key, "occurred_at", "channel")
    if level == "lead":
        t = t.mutate(x_lead_source=t.lead_source)
    else:
        contacts = store.table("contacts")
        c = contacts.filter(contacts.account_id.notnull() & contacts.lead_source.notnull())
        w = ibis.window(group_by=c.account_id, order_by=[c.created_at, c.contact_id])
        c = c.mutate(_r=ibis.row_number().over(w))
        earliest = c.filter(c._r == 0).select(ls_k=_.account_id, x_lead_source=_.lead_source)
        t = t.left_join(earliest, t.entity_id == earliest.ls_k).drop("ls_k")
    t = t.left_join(first, t.entity_id == first.k).drop("k")
    return t.mutate(x_channel=ibis.coalesce(t.v, t.x_lead_source)).drop("v")


def _campaign(store: Store, level: Level, t: Any) -> Any:
    """Per entity (``k``): ``x_campaign`` and its name ``x_campaign_name``."""
    camps = store.table("campaigns").select(c_id=_.campaign_id, c_name=_.name)
    if level == "opportunity":
        c = t.select(k=t.entity_id, x_campaign=t.primary_campaign_id)
    else:
        key = "contact_id" if level == "lead" else "account_id"
        c = _first_by(store.table("touchpoints"), key, "occurred_at", "campaign_id").select(
            k=_.k, x_campaign=_.v)
        if level == "lead":
            members = _first_by(store.table("campaign_members"), "contact_id", "created_at",
                                "campaign_id")
            extra = members.anti_join(c, members.k == c.k).select(k=_.k, x_campaign=_.v)
            c = ibis.union(c, extra, distinct=False)
    c = c.left_join(camps, c.x_campaign == camps.c_id)
    return c.select(k=c.k, x_campaign=c.x_campaign, x_campaign_name=c.c_name)


def _product(store: Store, level: Level) -> Any:
    """Per lead / account (``k``): product of its earliest new-business opportunity."""
    opps = store.table("opportunities")
    new = opps.filter(ibis.coalesce(opps.opportunity_type, "new") == "new")
    if level == "account":
        links = new.filter(new.account_id.notnull()).select(
            k=_.account_id, o=_.opportunity_id, at=_.created_at, product=_.product)
    else:
        roles = store.table("opportunity_contacts").select(k=_.contact_id, o=_.opportunity_id)
        contacts = store.table("contacts")
        conv = contacts.filter(contacts.converted_opportunity_id.notnull()).select(
            k=_.contact_id, o=_.converted_opportunity_id)
        pairs = ibis.union(roles, conv, distinct=True)
        n = new.select(o_id=_.opportunity_id, at=_.created_at, product=_.product)
        links = pairs.join(n, pairs.o == n.o_id).select("k", "o", "at", "product")
    links = links.filter(links.product.notnull())
    w = ibis.window(group_by=links.k, order_by=[links.at, links.o])
    ranked = links.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).select(k=_.k, x_product=_.product)
