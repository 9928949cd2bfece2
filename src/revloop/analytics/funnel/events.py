"""The funnel's event log: every stage change of a level's entities, mapped to the definitions.

One row per source transition that maps to a waterfall stage, an exit or a post-sale event::

    entity_id    the lead / account / opportunity the funnel counts
    member_type  person, opportunity or account: whose transition it is
    member_id    e.g. the person whose MQL made the account an MQL account
    kind         stage | exit | post_sale
    rank         waterfall position (stages only)
    name         the definition the value maps to
    exit_order   position in ``exits`` (exits only; the lower wins at equal timestamps)
    reason       exit reason as recorded
    occurred_at  truncated to whole seconds (durations are exact, identical on every engine)
    amount       the amount recorded with the transition, else the opportunity's amount

Source values are mapped in Python (``StageDefinitions.target``) for the distinct
``(entity_type, to_stage)`` pairs present, then applied as one ``CASE`` on the engine, so the
mapping rules live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
from ibis import _

from revloop.analytics.funnel.request import Level
from revloop.analytics.funnel.result import WonReversal
from revloop.analytics.funnel.stages import IGNORE, StageDefinitions, normalise
from revloop.errors import StoreError
from revloop.model import tables
from revloop.store import Store

PEOPLE = ("lead", "contact")
NEEDED_MARTS = ("stage_transitions", "contacts", "accounts", "opportunities", "touchpoints",
                "users", "teams", "campaigns", "opportunity_contacts", "campaign_members")


@dataclass(frozen=True)
class SourceValue:
    """One distinct source value of the transition log and what it maps to."""

    entity_type: str
    value: str
    rows: int
    target: str | None  # None: not mapped (or mapped to 'ignore')
    mapped: bool  # False: no map knows the value


def check_marts(store: Store) -> None:
    """The marts the funnel reads exist, or a clear error says how to make them."""
    present = set(store.list_tables())
    missing = [m for m in NEEDED_MARTS if m not in present]
    if missing:
        raise StoreError(
            f"the store has no {', '.join(missing)} mart(s) yet: import data "
            "(`revloop import …`) and run `revloop build` first")


def source_values(store: Store, defs: StageDefinitions) -> list[SourceValue]:
    """Distinct ``(entity_type, to_stage)`` pairs with their row counts and mapping."""
    st = store.table(tables.STAGE_TRANSITIONS)
    rows = (st.group_by(["entity_type", "to_stage"]).agg(rows=_.count())
            .order_by(["entity_type", "to_stage"]).to_pyarrow().to_pylist())
    out = []
    for r in rows:
        etype, value = r["entity_type"], r["to_stage"]
        if value is None:
            continue
        key = normalise(value)
        known = key in defs.values or key in defs.entity_values.get(etype, {})
        out.append(SourceValue(etype, value, int(r["rows"]), defs.target(etype, value),
                               known))
    return out


def _value_map(defs: StageDefinitions, values: list[SourceValue]) -> Any:
    """The mapped source values as a small in-memory table joined to the log (a join keeps
    the engine from re-evaluating a long CASE in every expression that uses the result)."""
    rows = [v for v in values if v.target is not None and v.target != IGNORE]
    kinds = {**dict.fromkeys(defs.stages, "stage"), **dict.fromkeys(defs.exits, "exit"),
             **dict.fromkeys(defs.post_sale, "post_sale")}
    data = {
        "m_type": [v.entity_type for v in rows],
        "m_value": [v.value for v in rows],
        "name": [v.target for v in rows],
        "kind": [kinds[str(v.target)] for v in rows],
        "rank": [defs.stages.index(str(v.target)) if v.target in defs.stages else None
                 for v in rows],
        "exit_order": [defs.exits.index(str(v.target)) if v.target in defs.exits else None
                       for v in rows],
    }
    schema = {"m_type": "string", "m_value": "string", "name": "string", "kind": "string",
              "rank": "int64", "exit_order": "int64"}
    return ibis.memtable(data, schema=schema)


def _classified(st: Any, defs: StageDefinitions, values: list[SourceValue]) -> Any:
    """Mapped transitions with ``name``, ``kind``, ``rank``, ``exit_order``."""
    m = _value_map(defs, values)
    t = st.join(m, (st.entity_type == m.m_type) & (st.to_stage == m.m_value))
    return t.mutate(occurred_at=t.occurred_at.truncate("s")).drop("m_type", "m_value")


def _shape(t: Any, entity_id: Any, member_type: str, member_id: Any, amount: Any) -> Any:
    return t.select(
        entity_id=entity_id.cast("string"), member_type=ibis.literal(member_type),
        member_id=member_id.cast("string"), kind=t.kind, rank=t.rank, name=t.name,
        exit_order=t.exit_order, reason=t.reason, occurred_at=t.occurred_at,
        amount=amount.cast("float64"),
    )


def _deals(store: Store, amounts: bool = True) -> Any:
    return store.table(tables.OPPORTUNITIES).select(
        o_id=_.opportunity_id, o_account=_.account_id, o_type=_.opportunity_type,
        o_amount=_.amount_corporate if amounts else ibis.null("float64"), o_won=_.is_won,
        o_close=ibis.coalesce(_.close_date.cast("timestamp"), _.created_at))


def _reversed(t: Any, defs: StageDefinitions) -> Any:
    """A won in the history of a deal whose current state is not won (Closed Won, then
    Closed Lost): not an outcome, a movement (see :func:`won_reversals`)."""
    return ibis.coalesce((t.name == defs.won) & (t.o_won == False), False)  # noqa: E712


def _one_won(t: Any, opps: Any, defs: StageDefinitions) -> Any:
    """The deal's current state decides won, as everywhere else in revloop: a won its
    history shows but the deal no longer has is dropped, and a deal won now whose history
    lacks the won stage gets it at its close date."""
    cols = ["entity_id", "o_account", "o_type", "o_amount", "kind", "rank", "name",
            "exit_order", "reason", "occurred_at", "amount"]
    kept = t.filter(~_reversed(t, defs)).select(*cols)
    has_won = t.filter(t.name == defs.won).select(h_id=t.entity_id).distinct()
    won_now = opps.filter(opps.o_won == True)  # noqa: E712
    missing = won_now.anti_join(has_won, won_now.o_id == has_won.h_id)
    added = missing.select(
        entity_id=missing.o_id, o_account=missing.o_account, o_type=missing.o_type,
        o_amount=missing.o_amount, kind=ibis.literal("stage"),
        rank=ibis.literal(defs.stages.index(defs.won), "int64"),
        name=ibis.literal(defs.won), exit_order=ibis.null("int64"),
        reason=ibis.null("string"), occurred_at=missing.o_close.truncate("s"),
        amount=ibis.null("float64"))
    added = added.filter(added.occurred_at.notnull())
    return ibis.union(kept, added.cast(kept.schema()), distinct=False)


def _opportunity_events(store: Store, mapped: Any, defs: StageDefinitions,
                        amounts: bool) -> Any:
    """Opportunity transitions with the deal's account, type and amount (in the corporate
    currency); the won of a renewal / expansion deal becomes that post-sale event, its other
    stages drop out."""
    opps = _deals(store, amounts)
    t = mapped.filter(mapped.entity_type == "opportunity")
    t = t.left_join(opps, t.entity_id == opps.o_id)
    t = _one_won(t, opps, defs)
    post_types = list(defs.post_sale_opportunity_types)
    is_post_type = (ibis.coalesce(t.o_type.isin(post_types), False) if post_types
                    else ibis.literal(False))
    t = t.filter(~is_post_type | (t.name == defs.won) | (t.kind == "post_sale"))
    t = t.mutate(
        kind=ibis.ifelse(is_post_type & (t.name == defs.won), "post_sale", t.kind),
        name=ibis.ifelse(is_post_type & (t.name == defs.won), t.o_type, t.name),
        rank=ibis.ifelse(is_post_type, ibis.null("int64"), t.rank),
        amount=ibis.coalesce(t.amount, t.o_amount),
    )
    return t


def level_events(store: Store, level: Level, defs: StageDefinitions,
                 values: list[SourceValue], *, people_with_deals: bool = False,
                 amounts: bool = True) -> Any:
    """The event log of ``level`` (an Ibis expression; nothing runs yet); ``amounts`` False:
    every amount NULL (they are in currencies that cannot be added)."""
    st = _in_corporate_currency(store.table(tables.STAGE_TRANSITIONS), amounts)
    mapped = _classified(st, defs, values)
    people = mapped.filter(mapped.entity_type.isin(list(PEOPLE)))
    opp = _opportunity_events(store, mapped, defs, amounts)
    parts: list[Any] = []
    if level == "lead":
        parts.append(_shape(people, people.entity_id, "person", people.entity_id,
                            people.amount))
        if people_with_deals:
            links = _person_deals(store)
            j = opp.join(links, opp.entity_id == links.l_opp)
            parts.append(_shape(j, j.l_person, "opportunity", j.entity_id, j.amount))
    elif level == "account":
        contacts = store.table(tables.CONTACTS).select(p_id=_.contact_id, p_account=_.account_id)
        pj = people.join(contacts, people.entity_id == contacts.p_id)
        pj = pj.filter(pj.p_account.notnull())
        parts.append(_shape(pj, pj.p_account, "person", pj.entity_id, pj.amount))
        oj = opp.filter(opp.o_account.notnull())
        parts.append(_shape(oj, oj.o_account, "opportunity", oj.entity_id, oj.amount))
        acc = mapped.filter(mapped.entity_type == "account")
        parts.append(_shape(acc, acc.entity_id, "account", acc.entity_id, acc.amount))
    else:
        parts.append(_shape(opp, opp.entity_id, "opportunity", opp.entity_id, opp.amount))
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def _in_corporate_currency(st: Any, amounts: bool = True) -> Any:
    """Transitions whose ``amount`` is the amount in the corporate currency (NULL when
    ``amounts`` is False)."""
    return st.mutate(amount=st.amount_corporate if amounts else ibis.null("float64"))


def won_reversals(store: Store, defs: StageDefinitions, values: list[SourceValue],
                  limit: int = 1000, *, amounts: bool = True) -> list[WonReversal]:
    """Deals that reached won in their history and are not won now, earliest first."""
    st = store.table(tables.STAGE_TRANSITIONS)
    mapped = _classified(st.filter(st.entity_type == "opportunity"), defs, values)
    opps = _deals(store)
    t = mapped.left_join(opps, mapped.entity_id == opps.o_id)
    t = t.filter(_reversed(t, defs))
    o = store.table(tables.OPPORTUNITIES).select(
        r_id=_.opportunity_id, r_stage=_.stage,
        r_amount=_.amount_corporate if amounts else ibis.null("float64"))
    g = t.group_by(g_id=t.entity_id).agg(won_at=t.occurred_at.min())
    g = g.left_join(o, g.g_id == o.r_id)
    rows = g.order_by([g.won_at, g.g_id]).limit(limit).to_pyarrow().to_pylist()
    return [WonReversal(str(r["g_id"]), r["won_at"], r["r_stage"],
                        None if r["r_amount"] is None else float(r["r_amount"])) for r in rows]


def _person_deals(store: Store) -> Any:
    """Person → opportunity links: contact roles and the opportunity a lead converted to."""
    roles = store.table(tables.OPPORTUNITY_CONTACTS).select(
        l_person=_.contact_id, l_opp=_.opportunity_id)
    contacts = store.table(tables.CONTACTS)
    conv = contacts.filter(contacts.converted_opportunity_id.notnull()).select(
        l_person=_.contact_id, l_opp=_.converted_opportunity_id)
    return ibis.union(roles, conv, distinct=True)
