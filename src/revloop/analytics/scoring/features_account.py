"""Point-in-time account features and labels, built in Ibis (the same SQL on every engine).

Everything is computed **as of** a timestamp ``T`` from rows dated before it:

* touches with ``occurred_at < T`` (in the 365 days before it);
* intent signals and technologies of days before ``T``'s date (a daily row is known once
  its day is over), contacts created before ``T``, opportunities created before ``T`` —
  closed or won only if their close date is before ``T``'s date; stage transitions before
  ``T``;
* the account itself must exist at ``T`` (created before it, or undated).

Firmographics and custom attributes are the marts' current values (the marts keep no
attribute history) — the one documented exception. A test adds future rows of every kind
and checks that the features do not move.

Families (which models use them): ``firmographic`` and ``technographic`` (account fit),
``engagement`` and ``buying_group`` (engagement), ``intent`` (intent), ``history``, plus all
of them (in-market).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
from ibis import _

from revloop.analytics.scoring.estimator import CATEGORICAL, NUMERIC, FeatureSpec
from revloop.analytics.scoring.features import FeatureBuilder, FeatureQuery
from revloop.analytics.scoring.features_contact import (
    CustomPlan,
    Excluded,
    plan_custom,
)
from revloop.analytics.scoring.json_attributes import (
    profile_attributes,
    sample_custom,
)
from revloop.analytics.scoring.rules_engine import LN2
from revloop.model import tables
from revloop.store import Store
from revloop.store.queries import (
    DAY_SECONDS,
    epoch_seconds,
    epoch_seconds_of,
    float_literal,
    json_text,
    safe_float,
    timestamp_literal,
)

SENIOR = ("c_level", "vp", "director", "owner", "partner", "executive")
LOOKBACK_DAYS = 365
ENGAGEMENT_HALF_LIFE_DAYS = 30.0
INTENT_STRONG = 70.0  # a signal this strong counts as a surge
FIRMOGRAPHIC = {
    "industry": ("Industry", CATEGORICAL), "employees": ("Employees", NUMERIC),
    "annual_revenue": ("Annual revenue", NUMERIC), "country": ("Country", CATEGORICAL),
    "region": ("Region", CATEGORICAL),
}
MODEL_FAMILIES: dict[str, tuple[str, ...]] = {
    "account_fit": ("firmographic", "technographic"),
    "engagement": ("engagement", "buying_group"),
    "intent": ("intent",),
    "in_market": ("firmographic", "technographic", "engagement", "buying_group", "intent",
                  "history"),
}
# columns every query returns besides the features (used for stages and populations)
ACTIVITY_AGE = "_activity_age_days"
OPEN_OPPORTUNITIES = "_open_opportunities"


@dataclass
class AccountPlan:
    """The account features of a model, fixed at training so that apply builds the same."""

    firmographics: list[str]
    custom: CustomPlan
    technologies: list[str]
    tech_categories: list[str]
    touch_types: list[str]
    topics: list[str]
    funnel_stages: list[str]
    excluded: list[Excluded] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> AccountPlan:
        custom = doc["custom"]
        return cls(
            firmographics=list(doc["firmographics"]),
            custom=CustomPlan(list(custom["numeric"]), list(custom["categorical"]),
                              [Excluded(**e) for e in custom["excluded"]]),
            technologies=list(doc["technologies"]), tech_categories=list(doc["tech_categories"]),
            touch_types=list(doc["touch_types"]), topics=list(doc["topics"]),
            funnel_stages=list(doc["funnel_stages"]),
            excluded=[Excluded(**e) for e in doc["excluded"]],
        )


def _top_values(table: Any, column: str, limit: int) -> list[str]:
    t = table.filter(table[column].notnull())
    value = t[column].lower().strip()
    counts = t.select(v=value).group_by("v").agg(n=_.count())
    rows = counts.order_by([ibis.desc("n"), "v"]).limit(limit).to_pyarrow().to_pylist()
    return [str(r["v"]) for r in rows if r["v"]]


def plan_account_features(store: Store, exclude: Sequence[str] = ()) -> AccountPlan:
    """Decide the account features from what the store holds."""
    drop = {e.lower() for e in exclude}
    accounts = store.table(tables.ACCOUNTS)
    present = accounts.aggregate(**{c: accounts[c].count() for c in FIRMOGRAPHIC})
    counts = present.to_pyarrow().to_pylist()[0]
    excluded = [Excluded(c, "excluded by request") for c in FIRMOGRAPHIC if c in drop]
    firmographics = [c for c in FIRMOGRAPHIC if counts[c] and c not in drop]
    custom = plan_custom(profile_attributes(sample_custom(accounts, "custom", "account_id")),
                         exclude, "custom.")
    touches = store.table(tables.TOUCHPOINTS)
    funnel = store.table(tables.STAGE_TRANSITIONS)
    funnel = funnel.filter(funnel.entity_type.isin(["lead", "contact"]))
    stages = [s for s in _top_values(funnel, "to_stage", 20)
              if s in ("mql", "sal", "sql", "opportunity")]
    return AccountPlan(
        firmographics=firmographics, custom=custom,
        technologies=_top_values(store.table(tables.TECHNOGRAPHICS), "technology", 15),
        tech_categories=_top_values(store.table(tables.TECHNOGRAPHICS), "category", 8),
        touch_types=_top_values(touches.filter(touches.account_id.notnull()), "touch_type", 10),
        topics=_top_values(store.table(tables.INTENT_SIGNALS), "topic", 15),
        funnel_stages=stages, excluded=excluded,
    )


def _count(cond: Any) -> Any:
    return ibis.ifelse(cond, 1, 0).sum()


def _days_before(now: float, stamp: Any) -> Any:
    return (float_literal(now) - epoch_seconds(stamp)) / DAY_SECONDS


def _date_lit(day: dt.date) -> Any:
    return ibis.literal(day, type="date")


def _touch_aggregates(store: Store, plan: AccountPlan, as_of: dt.datetime) -> Any:
    now = epoch_seconds_of(as_of)
    t = store.table(tables.TOUCHPOINTS)
    start = as_of - dt.timedelta(days=LOOKBACK_DAYS)
    t = t.filter(t.account_id.notnull() & (t.occurred_at < timestamp_literal(as_of))
                 & (t.occurred_at >= timestamp_literal(start)))
    c = store.table(tables.CONTACTS)
    c = c.select(sen_id=c.contact_id, senior=ibis.coalesce(
        c.seniority.lower().isin(list(SENIOR)), False))
    t = t.left_join(c, t.contact_id == c.sen_id)
    t = t.mutate(age=_days_before(now, t.occurred_at), kind=t.touch_type.lower().strip())
    recent = t.age < 90
    aggs: dict[str, Any] = {
        "touches_7d": _count(t.age < 7), "touches_30d": _count(t.age < 30),
        "touches_90d": _count(recent), "touches_365d": t.count(),
        "decayed_touches": (t.age * (-LN2 / ENGAGEMENT_HALF_LIFE_DAYS)).exp().sum(),
        "engaged_contacts_90d": ibis.ifelse(recent, t.contact_id, ibis.null("string")).nunique(),
        "engaged_senior_90d": ibis.ifelse(recent & ibis.coalesce(t.senior, False), t.contact_id,
                                          ibis.null("string")).nunique(),
        "channels_90d": ibis.ifelse(recent, t.channel, ibis.null("string")).nunique(),
        "last_touch_age": t.age.min(),
    }
    for i, kind in enumerate(plan.touch_types):
        aggs[f"type_{i}_90d"] = _count(recent & (t.kind == kind))
    return t.group_by(tk=t.account_id).agg(**aggs)


def _intent_aggregates(store: Store, plan: AccountPlan, as_of: dt.datetime) -> Any:
    now = epoch_seconds_of(as_of)
    today = as_of.date()
    i = store.table(tables.INTENT_SIGNALS)
    i = i.filter((i.day < _date_lit(today)) & (i.day >= _date_lit(
        today - dt.timedelta(days=120))))
    i = i.mutate(age=_days_before(now, i.day.cast("timestamp")),
                 strength=ibis.coalesce(i.score.cast("float64"), 0.0),
                 topic_key=i.topic.lower().strip())
    last30 = i.age <= 30
    aggs: dict[str, Any] = {
        "intent_7d": ibis.ifelse(i.age <= 7, i.strength, 0.0).sum(),
        "intent_30d": ibis.ifelse(last30, i.strength, 0.0).sum(),
        "intent_max_30d": ibis.ifelse(last30, i.strength, 0.0).max(),
        "intent_topics_30d": ibis.ifelse(last30, i.topic_key, ibis.null("string")).nunique(),
        "intent_strong_30d": _count(last30 & (i.strength >= INTENT_STRONG)),
        "intent_base_90d": ibis.ifelse(i.age > 30, i.strength, 0.0).sum(),
        "last_intent_age": i.age.min(),
    }
    for k, topic in enumerate(plan.topics):
        aggs[f"topic_{k}_30d"] = ibis.ifelse(last30 & (i.topic_key == topic), i.strength,
                                             0.0).sum()
    return i.group_by(ik=i.account_id).agg(**aggs)


def _opportunity_aggregates(store: Store, as_of: dt.datetime) -> Any:
    now = epoch_seconds_of(as_of)
    o = store.table(tables.OPPORTUNITIES)
    o = o.filter(o.account_id.notnull() & (o.created_at < timestamp_literal(as_of)))
    closed = ibis.coalesce(o.is_closed, False) & o.close_date.notnull() & (
        o.close_date < _date_lit(as_of.date()))
    won = closed & ibis.coalesce(o.is_won, False)
    o = o.mutate(closed_now=closed, won_now=won,
                 created_age=_days_before(now, o.created_at),
                 close_age=ibis.ifelse(closed, _days_before(now, o.close_date.cast(
                     "timestamp")), ibis.null("float64")))
    return o.group_by(ok=o.account_id).agg(
        opportunities_before=o.count(), won_before=_count(o.won_now),
        lost_before=_count(o.closed_now & ~o.won_now), open_now=_count(~o.closed_now),
        last_opportunity_age=o.created_age.min(), last_close_age=o.close_age.min(),
    )


def _account_stage(store: Store, as_of: dt.datetime) -> Any:
    """The account's last customer/churned transition before ``as_of``."""
    t = store.table(tables.STAGE_TRANSITIONS)
    t = t.filter((t.entity_type == "account") & (t.occurred_at < timestamp_literal(as_of))
                 & t.to_stage.lower().isin(["customer", "churned"]))
    w = ibis.window(group_by=t.entity_id, order_by=[ibis.desc(t.occurred_at),
                                                    ibis.desc(t.to_stage)])
    t = t.mutate(rank=ibis.row_number().over(w)).filter(_.rank == 0)
    return t.select(sk=t.entity_id, stage_customer=t.to_stage.lower() == "customer")


def _contact_aggregates(store: Store, plan: AccountPlan, as_of: dt.datetime) -> Any:
    now = epoch_seconds_of(as_of)
    c = store.table(tables.CONTACTS)
    c = c.filter(c.account_id.notnull() & (c.created_at.isnull()
                                           | (c.created_at < timestamp_literal(as_of))))
    created_age = ibis.ifelse(c.created_at.isnull(), ibis.null("float64"),
                              _days_before(now, c.created_at))
    return c.group_by(ck=c.account_id).agg(
        contacts_known=c.count(),
        senior_contacts=_count(ibis.coalesce(c.seniority.lower().isin(list(SENIOR)), False)),
        new_contacts_90d=_count(ibis.coalesce(created_age < 90, False)),
    )


def _funnel_aggregates(store: Store, plan: AccountPlan, as_of: dt.datetime) -> Any:
    now = epoch_seconds_of(as_of)
    t = store.table(tables.STAGE_TRANSITIONS)
    t = t.filter(t.entity_type.isin(["lead", "contact"])
                 & (t.occurred_at < timestamp_literal(as_of))
                 & t.to_stage.lower().isin(plan.funnel_stages))
    c = store.table(tables.CONTACTS).select(fc=_.contact_id, f_account=_.account_id)
    t = t.join(c, t.entity_id == c.fc)
    t = t.mutate(age=_days_before(now, t.occurred_at), stage=t.to_stage.lower())
    aggs = {f"funnel_{s}_90d": ibis.ifelse((t.age < 90) & (t.stage == s), t.entity_id,
                                           ibis.null("string")).nunique()
            for s in plan.funnel_stages}
    return t.group_by(fk=t.f_account).agg(**aggs)


def _tech_aggregates(store: Store, plan: AccountPlan, as_of: dt.datetime) -> Any:
    t = store.table(tables.TECHNOGRAPHICS)
    t = t.filter(t.first_seen.isnull() | (t.first_seen < _date_lit(as_of.date())))
    t = t.mutate(tech=t.technology.lower().strip(), cat=t.category.lower().strip())
    aggs: dict[str, Any] = {"technologies": t.tech.nunique()}
    for i, tech in enumerate(plan.technologies):
        aggs[f"tech_{i}"] = ibis.ifelse(t.tech == tech, 1, 0).max()
    for i, cat in enumerate(plan.tech_categories):
        aggs[f"techcat_{i}"] = ibis.ifelse(t.cat == cat, t.tech, ibis.null("string")).nunique()
    return t.group_by(tk2=t.account_id).agg(**aggs)


def _clean(value: Any) -> Any:
    text = value.cast("string").strip().lower()
    return ibis.ifelse(text == "", ibis.null("string"), text)


def _accounts_as_of(store: Store, plan: AccountPlan, as_of: dt.datetime,
                    account_ids: Sequence[str] | None) -> Any:
    """The accounts that existed at ``as_of`` with every aggregate the features read."""
    a = store.table(tables.ACCOUNTS)
    a = a.filter(a.created_at.isnull() | (a.created_at < timestamp_literal(as_of)))
    if account_ids is not None:
        a = a.filter(a.account_id.isin(list(account_ids)))
    rel = a
    touches = _touch_aggregates(store, plan, as_of)
    intent = _intent_aggregates(store, plan, as_of)
    opps = _opportunity_aggregates(store, as_of)
    stage = _account_stage(store, as_of)
    people = _contact_aggregates(store, plan, as_of)
    tech = _tech_aggregates(store, plan, as_of)
    rel = (rel.left_join(touches, rel.account_id == touches.tk).drop("tk")
           .left_join(intent, _.account_id == intent.ik).drop("ik")
           .left_join(opps, _.account_id == opps.ok).drop("ok")
           .left_join(stage, _.account_id == stage.sk).drop("sk")
           .left_join(people, _.account_id == people.ck).drop("ck")
           .left_join(tech, _.account_id == tech.tk2).drop("tk2"))
    if plan.funnel_stages:
        funnel = _funnel_aggregates(store, plan, as_of)
        rel = rel.left_join(funnel, _.account_id == funnel.fk).drop("fk")
    return rel


def _zero(rel: Any, col: str) -> Any:
    """An aggregate column as float, 0 for accounts without rows (a left join's NULL)."""
    return ibis.coalesce(rel[col].cast("float64"), 0.0)


def _add_firmographic(fb: FeatureBuilder, store: Store, rel: Any, plan: AccountPlan) -> None:
    for col in plan.firmographics:
        label, kind = FIRMOGRAPHIC[col]
        value = _clean(rel[col]) if kind == CATEGORICAL else rel[col]
        fb.add(value, FeatureSpec(col, kind, "firmographic", label))
    for key in plan.custom.numeric:
        fb.add(safe_float(json_text(store, rel.custom, key)),
               FeatureSpec(f"custom.{key}", NUMERIC, "firmographic", key))
    for key in plan.custom.categorical:
        fb.add(json_text(store, rel.custom, key),
               FeatureSpec(f"custom.{key}", CATEGORICAL, "firmographic", key))


def _add_technographic(fb: FeatureBuilder, rel: Any, plan: AccountPlan) -> None:
    fb.add(_zero(rel, "technologies"), FeatureSpec("technologies", NUMERIC, "technographic",
                                                   "Technologies in use"))
    for i, tech in enumerate(plan.technologies):
        fb.add(_zero(rel, f"tech_{i}"), FeatureSpec(f"tech.{tech}", NUMERIC, "technographic",
                                                    f"Uses {tech}"))
    for i, cat in enumerate(plan.tech_categories):
        fb.add(_zero(rel, f"techcat_{i}"), FeatureSpec(f"tech_category.{cat}", NUMERIC,
                                                       "technographic", f"{cat} technologies"))


def _add_engagement(fb: FeatureBuilder, rel: Any, plan: AccountPlan) -> None:
    for col, label in (("touches_7d", "Touches in the last 7 days"),
                       ("touches_30d", "Touches in the last 30 days"),
                       ("touches_90d", "Touches in the last 90 days"),
                       ("touches_365d", "Touches in the last year"),
                       ("decayed_touches", "Decayed touches (30-day half-life)"),
                       ("channels_90d", "Channels used in the last 90 days")):
        fb.add(_zero(rel, col), FeatureSpec(col, NUMERIC, "engagement", label, monotone=1))
    fb.add(rel.last_touch_age, FeatureSpec("days_since_last_touch", NUMERIC, "engagement",
                                           "Days since the last touch"))
    for i, kind in enumerate(plan.touch_types):
        fb.add(_zero(rel, f"type_{i}_90d"), FeatureSpec(f"touch_type.{kind}_90d", NUMERIC,
                                                        "engagement",
                                                        f"{kind} touches in 90 days",
                                                        monotone=1))


def _add_buying_group(fb: FeatureBuilder, rel: Any) -> None:
    for col, label in (("engaged_contacts_90d", "People engaged in the last 90 days"),
                       ("engaged_senior_90d", "Senior people engaged in the last 90 days"),
                       ("contacts_known", "People known at the account"),
                       ("senior_contacts", "Senior people known"),
                       ("new_contacts_90d", "People added in the last 90 days")):
        fb.add(_zero(rel, col), FeatureSpec(col, NUMERIC, "buying_group", label,
                                            monotone=1 if "engaged" in col else 0))


def _add_intent(fb: FeatureBuilder, rel: Any, plan: AccountPlan) -> None:
    for col, label in (("intent_7d", "Intent in the last 7 days"),
                       ("intent_30d", "Intent in the last 30 days"),
                       ("intent_max_30d", "Strongest intent signal in 30 days"),
                       ("intent_topics_30d", "Intent topics in 30 days"),
                       ("intent_strong_30d", "Surging intent signals in 30 days")):
        fb.add(_zero(rel, col), FeatureSpec(col, NUMERIC, "intent", label, monotone=1))
    surge = _zero(rel, "intent_30d") / (_zero(rel, "intent_base_90d") / 3.0 + 10.0)
    fb.add(surge, FeatureSpec("intent_surge", NUMERIC, "intent",
                              "Intent surge (30 days vs the 90 before)", monotone=1))
    fb.add(rel.last_intent_age, FeatureSpec("days_since_last_intent", NUMERIC, "intent",
                                            "Days since the last intent signal"))
    for k, topic in enumerate(plan.topics):
        fb.add(_zero(rel, f"topic_{k}_30d"), FeatureSpec(f"intent_topic.{topic}", NUMERIC,
                                                         "intent",
                                                         f"Intent on {topic} (30 days)"))


def _add_history(fb: FeatureBuilder, rel: Any, plan: AccountPlan, now: float) -> None:
    won = _zero(rel, "won_before")
    customer = ibis.coalesce(rel.stage_customer, won > 0)
    fb.add(ibis.ifelse(customer, float_literal(1.0), float_literal(0.0)),
           FeatureSpec("is_customer", NUMERIC, "history", "Customer"))
    for col, label in (("opportunities_before", "Opportunities so far"),
                       ("won_before", "Deals won so far"), ("lost_before", "Deals lost so far"),
                       ("open_now", "Open opportunities")):
        fb.add(_zero(rel, col), FeatureSpec(col, NUMERIC, "history", label))
    fb.add(rel.last_opportunity_age, FeatureSpec("days_since_last_opportunity", NUMERIC,
                                                 "history", "Days since the last opportunity"))
    fb.add(rel.last_close_age, FeatureSpec("days_since_last_close", NUMERIC, "history",
                                           "Days since the last closed deal"))
    fb.add(ibis.ifelse(rel.created_at.isnull(), ibis.null("float64"),
                       _days_before(now, rel.created_at)),
           FeatureSpec("account_age_days", NUMERIC, "history", "Days since the account was "
                                                               "created"))
    for s in plan.funnel_stages:
        fb.add(_zero(rel, f"funnel_{s}_90d"), FeatureSpec(f"funnel.{s}_90d", NUMERIC, "history",
                                                          f"People who reached {s} in 90 days"))


def account_feature_query(store: Store, plan: AccountPlan, as_of: dt.datetime,
                          account_ids: Sequence[str] | None = None) -> FeatureQuery:
    """Every account feature as of ``as_of``, for the accounts that existed then."""
    now = epoch_seconds_of(as_of)
    rel = _accounts_as_of(store, plan, as_of, account_ids)
    fb = FeatureBuilder()
    # family by family, in this order: the order of the features (and of their columns)
    _add_firmographic(fb, store, rel, plan)
    _add_technographic(fb, rel, plan)
    _add_engagement(fb, rel, plan)
    _add_buying_group(fb, rel)
    _add_intent(fb, rel, plan)
    _add_history(fb, rel, plan, now)
    activity = ibis.least(ibis.coalesce(rel.last_touch_age, 1e9),
                          ibis.coalesce(rel.last_intent_age, 1e9))
    return fb.query(rel, {"account_id": rel.account_id},
                    extra={ACTIVITY_AGE: activity, OPEN_OPPORTUNITIES: _zero(rel, "open_now")})


def in_market_labels(store: Store, as_of: dt.datetime, horizon_days: int,
                     exclude_types: Sequence[str] = ("renewal",)) -> Any:
    """account_id → 1 when the account opened an opportunity in [as_of, as_of + horizon)."""
    o = store.table(tables.OPPORTUNITIES)
    end = as_of + dt.timedelta(days=horizon_days)
    cond = o.account_id.notnull() & (o.created_at >= timestamp_literal(as_of)) & (
        o.created_at < timestamp_literal(end))
    if exclude_types:
        cond = cond & (o.opportunity_type.isnull() | ~o.opportunity_type.lower().isin(
            [x.lower() for x in exclude_types]))
    return o.filter(cond).select(account_id=o.account_id).distinct().mutate(label=1)


def fit_labels(store: Store, as_of: dt.datetime, label: str = "opened") -> Any:
    """account_id → 1 when the account opened (``opened``) or won (``won``) a deal before
    ``as_of``."""
    o = store.table(tables.OPPORTUNITIES)
    cond = o.account_id.notnull() & (o.created_at < timestamp_literal(as_of))
    if label == "won":
        cond = cond & ibis.coalesce(o.is_won, False) & o.close_date.notnull() & (
            o.close_date < _date_lit(as_of.date()))
    return o.filter(cond).select(account_id=o.account_id).distinct().mutate(label=1)


def specs_for(model: str, specs: Sequence[FeatureSpec]) -> list[FeatureSpec]:
    """The features of one account model."""
    families = MODEL_FAMILIES[model]
    return [s for s in specs if s.family in families]
