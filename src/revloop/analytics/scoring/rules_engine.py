"""Rule-based lead scoring in Ibis: the score log, per-group scores and the MQL flag.

How a score is made (the same SQL on DuckDB, PostgreSQL and Spark):

1. **Who** — the contacts known at the as-of date (created before it, or with no creation
   date). **What** — their touches that happened before it. Fit attributes are the current
   values in the marts (the marts keep no attribute history; documented).
2. **Events** — every fit rule that matches a contact fires once, dated at the contact's
   creation; every engagement rule fires once per matching touch (``once: true``: only on
   the first, earliest touch, ties broken by touchpoint id).
3. **Decay** — an event ``d`` days old is worth ``points × 0.5^(d / half_life_days)``.
4. **Caps** — a rule's decayed total is clamped to ``[−cap, cap]``; a group's total of its
   rules to ``[floor, cap]``. Clamping scales the events it covers proportionally, so the
   effective points of the log always add up to the score exactly.
5. **MQL** — score ≥ ``mql_threshold``, or a group at or over its own threshold.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
from ibis import _

from revloop.analytics.scoring.conditions import combine, value_predicate
from revloop.analytics.scoring.rules import Condition, Rule, RuleSet
from revloop.model import tables
from revloop.schema import ENTITY_BY_NAME
from revloop.store import Store
from revloop.store.queries import (
    DAY_SECONDS,
    epoch_seconds,
    epoch_seconds_of,
    float_literal,
    json_text,
    round_float,
    timestamp_literal,
)

_PREFIX = {"contact": "c__", "account": "a__", "touch": "t__", "campaign": "cp__",
           "content": "ct__"}
_ENTITY = {"contact": "contacts", "account": "accounts", "touch": "touchpoints",
           "campaign": "campaigns", "content": "content"}
_BAG = {"contact": "custom", "account": "custom", "touch": "properties", "campaign": "custom",
        "content": "custom"}
LN2 = math.log(2.0)


@dataclass(frozen=True)
class RuleScoreTables:
    """Ibis expressions of one scoring run (not executed yet)."""

    as_of: dt.datetime
    log: Any  # one row per rule firing
    scores: Any  # one row per known contact
    groups: Any  # one row per (contact, group) with events


def known_contacts(store: Store, as_of: dt.datetime,
                   contact_ids: Sequence[str] | None = None) -> Any:
    """Contacts that existed at ``as_of`` (created before it, or undated)."""
    c = store.table(tables.CONTACTS)
    c = c.filter(c.created_at.isnull() | (c.created_at < timestamp_literal(as_of)))
    if contact_ids is not None:
        c = c.filter(c.contact_id.isin(list(contact_ids)))
    return c


def _prefixed(table: Any, scope: str) -> Any:
    prefix = _PREFIX[scope]
    return table.select(**{f"{prefix}{c}": table[c] for c in table.columns})


def _scopes(rules: Sequence[Rule]) -> set[str]:
    scopes: set[str] = set()
    for rule in rules:
        for cond in rule.conditions:
            scopes.add(cond.scope)
            if cond.alternatives:
                scopes.add(cond.scope)
    return scopes


def _technology_flags(store: Store, rel: Any, rules: Sequence[Rule], as_of: dt.datetime,
                      account_col: str) -> tuple[Any, dict[int, str]]:
    """Add one boolean column per technology condition: the account uses a matching one."""
    flags: dict[int, str] = {}
    conds = [c for r in rules for c in r.conditions if c.technology]
    if not conds:
        return rel, flags
    tech = store.table(tables.TECHNOGRAPHICS)
    tech = tech.filter(tech.first_seen.isnull()
                       | (tech.first_seen.cast("timestamp") < timestamp_literal(as_of)))
    for i, cond in enumerate(conds):
        name = f"tech__{i}"
        hits = tech.filter(value_predicate(cond, tech[cond.column])).select(
            **{f"{name}_id": _.account_id}).distinct()
        rel = rel.left_join(hits, rel[account_col] == hits[f"{name}_id"])
        rel = rel.mutate(**{name: rel[f"{name}_id"].notnull()}).drop(f"{name}_id")
        flags[id(cond)] = name
    return rel, flags


def _value(store: Store, rel: Any, cond: Condition) -> Any:
    prefix = _PREFIX[cond.scope]
    if cond.custom:
        return json_text(store, rel[f"{prefix}{_BAG[cond.scope]}"], cond.column)
    if cond.scope == "contact" and cond.column == "email_domain":
        domain = rel["c__email"].strip().lower().re_extract(r"@([^@]+)$", 1)
        return ibis.ifelse(domain == "", ibis.null("string"), domain)
    return rel[f"{prefix}{cond.column}"]


def _predicate(store: Store, rel: Any, rule: Rule, flags: dict[int, str]) -> Any:
    preds = []
    for cond in rule.conditions:
        if cond.technology:
            preds.append(rel[flags[id(cond)]])
            continue
        pred = value_predicate(cond, _value(store, rel, cond))
        for alt in cond.alternatives:  # campaign/content shorthands: id or name
            alt_cond = Condition(cond.field, cond.scope, alt, False, cond.kind, cond.op,
                                 cond.value, cond.case_sensitive)
            pred = pred | value_predicate(alt_cond, rel[f"{_PREFIX[cond.scope]}{alt}"])
        preds.append(pred)
    return combine(preds, rule.match_any)


def _event(rel: Any, rule: Rule, contact: Any, occurred: Any, touch: Any) -> Any:
    return rel.select(
        contact_id=contact,
        rule=ibis.literal(rule.name, type="string"),
        kind=ibis.literal(rule.kind, type="string"),
        group_name=ibis.literal(rule.group, type="string"),
        occurred_at=occurred,
        touchpoint_id=touch,
        points=float_literal(rule.points),
        half_life_days=float_literal(rule.half_life_days),
        rule_cap=float_literal(rule.cap),
    )


def _fit_events(store: Store, rules: Sequence[Rule], contacts: Any,
                as_of: dt.datetime) -> list[Any]:
    if not rules:
        return []
    rel = _prefixed(contacts, "contact")
    if "account" in _scopes(rules):
        accounts = _prefixed(store.table(tables.ACCOUNTS), "account")
        rel = rel.left_join(accounts, rel.c__account_id == accounts.a__account_id)
    rel, flags = _technology_flags(store, rel, rules, as_of, "c__account_id")
    return [
        _event(rel.filter(_predicate(store, rel, rule, flags)), rule, _.c__contact_id,
               _.c__created_at, ibis.null("string"))
        for rule in rules
    ]


def _engagement_events(store: Store, rules: Sequence[Rule], contacts: Any,
                       as_of: dt.datetime) -> list[Any]:
    """One relation per rule; each joins only the tables its conditions read, so a rule on
    the touch alone is a single scan (the known-contact filter comes once, afterwards)."""
    if not rules:
        return []
    t = store.table(tables.TOUCHPOINTS)
    t = t.filter(t.contact_id.notnull() & (t.occurred_at < timestamp_literal(as_of)))
    base = _prefixed(t, "touch")
    events = []
    for rule in rules:
        scopes = _scopes([rule])
        rel = base
        if "contact" in scopes:
            people = _prefixed(contacts, "contact")
            rel = rel.join(people, rel.t__contact_id == people.c__contact_id)
        if "campaign" in scopes:
            cp = _prefixed(store.table(tables.CAMPAIGNS), "campaign")
            rel = rel.left_join(cp, rel.t__campaign_id == cp.cp__campaign_id)
        if "content" in scopes:
            ct = _prefixed(store.table(tables.CONTENT), "content")
            rel = rel.left_join(ct, rel.t__content_id == ct.ct__content_id)
        if "account" in scopes:
            accounts = _prefixed(store.table(tables.ACCOUNTS), "account")
            rel = rel.left_join(accounts, rel.t__account_id == accounts.a__account_id)
        rel, flags = _technology_flags(store, rel, [rule], as_of, "t__account_id")
        hits = rel.filter(_predicate(store, rel, rule, flags))
        if rule.once:
            w = ibis.window(group_by=hits.t__contact_id,
                            order_by=[hits.t__occurred_at, hits.t__touchpoint_id])
            hits = hits.mutate(_rank=ibis.row_number().over(w)).filter(_._rank == 0)
        events.append(_event(hits, rule, _.t__contact_id, _.t__occurred_at,
                             _.t__touchpoint_id))
    return events


def _clamp(value: Any, low: Any, high: Any) -> Any:
    out = ibis.ifelse(high.notnull() & (value > high), high, value)
    return ibis.ifelse(low.notnull() & (out < low), low, out)


def _scale(before: Any, after: Any) -> Any:
    return ibis.ifelse(before == 0, 1.0, after / before)


def score_rules(store: Store, ruleset: RuleSet, as_of: dt.datetime,
                contact_ids: Sequence[str] | None = None) -> RuleScoreTables:
    """The score log, per-contact scores and per-group scores of ``ruleset`` at ``as_of``."""
    contacts = known_contacts(store, as_of, contact_ids)
    parts = (_fit_events(store, ruleset.fit_rules, contacts, as_of)
             + _engagement_events(store, ruleset.engagement_rules, contacts, as_of))
    if parts:
        events = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    else:
        events = _empty_events(contacts)
    known = contacts.select(known_id=contacts.contact_id)
    events = events.semi_join(known, events.contact_id == known.known_id)
    now = epoch_seconds_of(as_of)
    age_days = (float_literal(now) - epoch_seconds(events.occurred_at)) \
        / DAY_SECONDS
    decay = ibis.ifelse(
        events.half_life_days.isnull() | events.occurred_at.isnull(), 1.0,
        (age_days * (-LN2) / events.half_life_days).exp(),
    )
    events = events.mutate(decay_factor=decay, decayed_points=events.points * decay)

    rule_tot = events.group_by(["contact_id", "rule"]).agg(
        group_name=events.group_name.max(), rule_cap=events.rule_cap.max(),
        rule_raw=events.decayed_points.sum(),
    )
    rule_tot = rule_tot.mutate(
        rule_capped=_clamp(rule_tot.rule_raw, -rule_tot.rule_cap, rule_tot.rule_cap))
    group_tot = rule_tot.group_by(["contact_id", "group_name"]).agg(
        group_raw=rule_tot.rule_capped.sum())
    caps = {g.name: g.cap for g in ruleset.groups.values()}
    floors = {g.name: g.floor for g in ruleset.groups.values()}
    thresholds = {g.name: g.mql_threshold for g in ruleset.groups.values()}
    group_tot = group_tot.mutate(
        group_score=_clamp(group_tot.group_raw, _lookup(group_tot.group_name, floors),
                           _lookup(group_tot.group_name, caps)),
        group_threshold=_lookup(group_tot.group_name, thresholds),
    )

    r = rule_tot.select(r_contact=_.contact_id, r_rule=_.rule,
                        r_scale=_scale(_.rule_raw, _.rule_capped))
    g = group_tot.select(g_contact=_.contact_id, g_group=_.group_name,
                         g_scale=_scale(_.group_raw, _.group_score))
    log = events.join(r, (events.contact_id == r.r_contact) & (events.rule == r.r_rule))
    log = log.join(g, (log.contact_id == g.g_contact) & (log.group_name == g.g_group))
    log = log.select(
        "contact_id", "rule", "kind", "group_name", "occurred_at", "touchpoint_id", "points",
        "half_life_days", decay_factor=round_float(_.decay_factor, 9),
        effective_points=round_float(_.decayed_points * _.r_scale * _.g_scale, 9),
        as_of=timestamp_literal(as_of),
    )

    groups = group_tot.select(
        "contact_id", "group_name", score=round_float(_.group_score, 6),
        is_mql=ibis.coalesce(_.group_threshold.notnull() & (round_float(_.group_score, 6)
                                                            >= _.group_threshold), False),
        as_of=timestamp_literal(as_of),
    )
    per_contact = log.group_by(s_contact=_.contact_id).agg(
        s_score=_.effective_points.sum(),
        s_fit=ibis.ifelse(_.kind == "fit", _.effective_points, 0.0).sum(),
        s_engagement=ibis.ifelse(_.kind == "engagement", _.effective_points, 0.0).sum(),
        s_fired=_.count(),
        s_last=_.occurred_at.max(),
    )
    group_mql = groups.group_by(m_contact=_.contact_id).agg(
        m_any=ibis.ifelse(_.is_mql, 1, 0).max())
    scores = contacts.select("contact_id", "account_id").left_join(
        per_contact, _.contact_id == per_contact.s_contact).left_join(
        group_mql, _.contact_id == group_mql.m_contact)
    score = round_float(ibis.coalesce(scores.s_score, 0.0), 6)
    threshold = ruleset.mql_threshold
    over = (score >= threshold) if threshold is not None else ibis.literal(False)
    scores = scores.select(
        "contact_id", "account_id",
        score=score,
        fit_score=round_float(ibis.coalesce(scores.s_fit, 0.0), 6),
        engagement_score=round_float(ibis.coalesce(scores.s_engagement, 0.0), 6),
        is_mql=over | (ibis.coalesce(scores.m_any, 0) == 1),
        rules_fired=ibis.coalesce(scores.s_fired, 0),
        last_event_at=scores.s_last,
        as_of=timestamp_literal(as_of),
        rules_hash=ibis.literal(ruleset.content_hash, type="string"),
    )
    return RuleScoreTables(as_of=as_of, log=log, scores=scores, groups=groups)


def _lookup(column: Any, mapping: dict[str, float | None]) -> Any:
    """A float column from a small name → value map (NULL for names not in it)."""
    cases = [(column == name, float_literal(v))
             for name, v in mapping.items() if v is not None]
    if not cases:
        return ibis.null("float64")
    return ibis.cases(*cases, else_=ibis.null("float64"))


def _empty_events(contacts: Any) -> Any:
    return contacts.filter(ibis.literal(False)).select(
        contact_id=_.contact_id, rule=ibis.literal("", type="string"),
        kind=ibis.literal("", type="string"), group_name=ibis.literal("", type="string"),
        occurred_at=_.created_at, touchpoint_id=ibis.null("string"),
        points=float_literal(0.0),
        half_life_days=ibis.null("float64"), rule_cap=ibis.null("float64"),
    )


def entity_columns(scope: str) -> tuple[str, ...]:
    """Canonical columns a scope of the rules can read (for messages and docs)."""
    return ENTITY_BY_NAME[_ENTITY[scope]].column_names
