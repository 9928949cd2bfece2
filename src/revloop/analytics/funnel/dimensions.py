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
* ``custom.<key>`` — a top-level key of the level's ``custom`` JSON attributes (read with
  :func:`revloop.store.queries.json_text`, the same on every engine).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ibis
from ibis import _

from revloop.analytics.funnel.request import Level, custom_key
from revloop.model import tables
from revloop.store import Store
from revloop.store.queries import json_text

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


def _base(store: Store, level: Level) -> Any:
    """The level's entities (``entity_id``, ``account_id``, ``owner_id``, ``custom`` and the
    level's own source columns)."""
    if level == "lead":
        return store.table(tables.CONTACTS).select(
            entity_id=_.contact_id, account_id=_.account_id, owner_id=_.owner_id,
            lead_source=_.lead_source, p_country=_.country, custom=_.custom)
    if level == "account":
        return store.table(tables.ACCOUNTS).select(
            entity_id=_.account_id, account_id=_.account_id, owner_id=_.owner_id,
            custom=_.custom)
    return store.table(tables.OPPORTUNITIES).select(
        entity_id=_.opportunity_id, account_id=_.account_id, owner_id=_.owner_id,
        product=_.product, source_channel=_.source_channel,
        primary_campaign_id=_.primary_campaign_id, opportunity_type=_.opportunity_type,
        custom=_.custom)


def _with_account_and_owner(store: Store, base: Any) -> Any:
    """``base`` with its account's firmographics (``a_*``), owner (``u_*``) and team
    (``t_name``)."""
    acc = store.table(tables.ACCOUNTS).select(a_id=_.account_id, a_industry=_.industry,
                                         a_employees=_.employees, a_country=_.country)
    users = store.table(tables.USERS).select(u_id=_.user_id, u_name=_.name, u_team=_.team_id)
    teams = store.table(tables.TEAMS).select(t_id=_.team_id, t_name=_.name)
    t = base.left_join(acc, base.account_id == acc.a_id).drop("a_id")
    t = t.left_join(users, t.owner_id == users.u_id).drop("u_id")
    return t.left_join(teams, t.u_team == teams.t_id).drop("t_id")


def _with_derived(store: Store, level: Level, t: Any, needs: set[str]) -> Any:
    """``t`` with the ``x_*`` columns of the requested dimensions that need their own query
    (joined only when asked for: each is a scan of touches or deals)."""
    if needs & {"channel", "lead_source"}:
        t = _with_sources(store, level, t)
    if "campaign" in needs:
        c = _campaign(store, level, t)
        t = t.left_join(c, t.entity_id == c.k).drop("k")
    if "product" not in needs:
        return t
    if level == "opportunity":
        return t.mutate(x_product=t.product)
    pr = _product(store, level)
    return t.left_join(pr, t.entity_id == pr.k).drop("k")


# One function per dimension: (table, dimension, level, segments) → its columns, in order.
_DimensionColumns = Callable[[Any, str, Level, Mapping[str, int]], dict[str, Any]]


def _owner_columns(t: Any, d: str, level: Level, segments: Mapping[str, int]) -> dict[str, Any]:
    return {dim_col(d): t.owner_id, label_col(d): t.u_name}


def _team_columns(t: Any, d: str, level: Level, segments: Mapping[str, int]) -> dict[str, Any]:
    return {dim_col(d): t.u_team, label_col(d): t.t_name}


def _segment_columns(t: Any, d: str, level: Level,
                     segments: Mapping[str, int]) -> dict[str, Any]:
    return {dim_col(d): _segment(t.a_employees, segments)}


def _industry_columns(t: Any, d: str, level: Level,
                      segments: Mapping[str, int]) -> dict[str, Any]:
    return {dim_col(d): t.a_industry}


def _country_columns(t: Any, d: str, level: Level,
                     segments: Mapping[str, int]) -> dict[str, Any]:
    # a person's own country first, the account's when they have none
    return {dim_col(d): (ibis.coalesce(t.p_country, t.a_country) if level == "lead"
                         else t.a_country)}


def _opportunity_type_columns(t: Any, d: str, level: Level,
                              segments: Mapping[str, int]) -> dict[str, Any]:
    return {dim_col(d): (ibis.coalesce(t.opportunity_type, "new") if level == "opportunity"
                         else ibis.null("string"))}


def _derived_columns(t: Any, d: str, level: Level,
                     segments: Mapping[str, int]) -> dict[str, Any]:
    """channel, lead_source, product: the ``x_<d>`` column :func:`_with_derived` added."""
    return {dim_col(d): t[f"x_{d}"]}


def _campaign_columns(t: Any, d: str, level: Level,
                      segments: Mapping[str, int]) -> dict[str, Any]:
    return {dim_col(d): t.x_campaign, label_col(d): t.x_campaign_name}


_DIMENSIONS: dict[str, _DimensionColumns] = {
    "owner": _owner_columns,
    "team": _team_columns,
    "segment": _segment_columns,
    "industry": _industry_columns,
    "country": _country_columns,
    "opportunity_type": _opportunity_type_columns,
    "channel": _derived_columns,
    "lead_source": _derived_columns,
    "campaign": _campaign_columns,
    "product": _derived_columns,
}


def _dimension_columns(store: Store, t: Any, d: str, level: Level,
                       segments: Mapping[str, int]) -> dict[str, Any]:
    """The columns of dimension ``d`` (none for an unknown name)."""
    key = custom_key(d)
    if key is not None:
        return {dim_col(d): json_text(store, t.custom, key)}
    columns = _DIMENSIONS.get(d)
    return {} if columns is None else columns(t, d, level, segments)


def dimension_table(store: Store, level: Level, dimensions: Sequence[str],
                    segments: Mapping[str, int]) -> Any:
    """``entity_id`` and one ``d_<dimension>`` column per requested dimension (plus owner,
    team and their labels)."""
    dims = list(dict.fromkeys([*ALWAYS, *dimensions]))
    t = _with_account_and_owner(store, _base(store, level))
    t = _with_derived(store, level, t, set(dims))
    cols: dict[str, Any] = {"entity_id": t.entity_id}
    for d in dims:
        cols.update(_dimension_columns(store, t, d, level, segments))
    out = t.select(**cols)
    fill = {c: ibis.coalesce(out[c], NONE) for c in out.columns
            if c.startswith("d_") and not c.endswith("__label")}
    return out.mutate(**fill)


def _with_sources(store: Store, level: Level, t: Any) -> Any:
    """``t`` with ``x_channel`` and ``x_lead_source``."""
    if level == "opportunity":
        camps = store.table(tables.CAMPAIGNS).select(c_id=_.campaign_id, c_channel=_.channel)
        t = t.left_join(camps, t.primary_campaign_id == camps.c_id).drop("c_id")
        return t.mutate(x_channel=ibis.coalesce(t.source_channel, t.c_channel),
                        x_lead_source=t.source_channel).drop("c_channel")
    key = "contact_id" if level == "lead" else "account_id"
    first = _first_by(store.table(tables.TOUCHPOINTS), key, "occurred_at", "channel")
    if level == "lead":
        t = t.mutate(x_lead_source=t.lead_source)
    else:
        contacts = store.table(tables.CONTACTS)
        c = contacts.filter(contacts.account_id.notnull() & contacts.lead_source.notnull())
        w = ibis.window(group_by=c.account_id, order_by=[c.created_at, c.contact_id])
        c = c.mutate(_r=ibis.row_number().over(w))
        earliest = c.filter(c._r == 0).select(ls_k=_.account_id, x_lead_source=_.lead_source)
        t = t.left_join(earliest, t.entity_id == earliest.ls_k).drop("ls_k")
    t = t.left_join(first, t.entity_id == first.k).drop("k")
    return t.mutate(x_channel=ibis.coalesce(t.v, t.x_lead_source)).drop("v")


def _campaign(store: Store, level: Level, t: Any) -> Any:
    """Per entity (``k``): ``x_campaign`` and its name ``x_campaign_name``."""
    camps = store.table(tables.CAMPAIGNS).select(c_id=_.campaign_id, c_name=_.name)
    if level == "opportunity":
        c = t.select(k=t.entity_id, x_campaign=t.primary_campaign_id)
    else:
        key = "contact_id" if level == "lead" else "account_id"
        c = _first_by(store.table(tables.TOUCHPOINTS), key, "occurred_at", "campaign_id").select(
            k=_.k, x_campaign=_.v)
        if level == "lead":
            members = _first_by(store.table(tables.CAMPAIGN_MEMBERS), "contact_id", "created_at",
                                "campaign_id")
            extra = members.anti_join(c, members.k == c.k).select(k=_.k, x_campaign=_.v)
            c = ibis.union(c, extra, distinct=False)
    c = c.left_join(camps, c.x_campaign == camps.c_id)
    return c.select(k=c.k, x_campaign=c.x_campaign, x_campaign_name=c.c_name)


def _product(store: Store, level: Level) -> Any:
    """Per lead / account (``k``): product of its earliest new-business opportunity."""
    opps = store.table(tables.OPPORTUNITIES)
    new = opps.filter(ibis.coalesce(opps.opportunity_type, "new") == "new")
    if level == "account":
        links = new.filter(new.account_id.notnull()).select(
            k=_.account_id, o=_.opportunity_id, at=_.created_at, product=_.product)
    else:
        roles = store.table(tables.OPPORTUNITY_CONTACTS).select(k=_.contact_id, o=_.opportunity_id)
        contacts = store.table(tables.CONTACTS)
        conv = contacts.filter(contacts.converted_opportunity_id.notnull()).select(
            k=_.contact_id, o=_.converted_opportunity_id)
        pairs = ibis.union(roles, conv, distinct=True)
        n = new.select(o_id=_.opportunity_id, at=_.created_at, product=_.product)
        links = pairs.join(n, pairs.o == n.o_id).select("k", "o", "at", "product")
    links = links.filter(links.product.notnull())
    w = ibis.window(group_by=links.k, order_by=[links.at, links.o])
    ranked = links.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).select(k=_.k, x_product=_.product)
