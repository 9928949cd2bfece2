"""Opportunity (win probability) features, point in time, in Ibis.

A deal is seen at **snapshots**: at creation and every 30 days after it while it is still
open (training), or at the as-of date (scoring open deals). At a snapshot ``S`` of a deal
created at ``T``:

* what the deal is: product, type, source channel, owner and their team and territory,
  primary campaign channel;
* where it stands at ``S``: days open, the stage it was in, the number of stage changes so
  far, the amount and the rep's probability last recorded at or before ``S`` (the mart's
  ``amount`` and ``probability`` are the final values — ``amount`` is 0 for lost deals in
  some CRMs — so they are never features themselves);
* the account's firmographics and custom attributes (current values, documented);
* history known at ``T``: the win rate of the account's and of the owner's deals closed
  before ``T`` (Laplace-smoothed, (won + 1) / (closed + 2), so it is defined from the first
  deal on and does not drift with the number of deals, as raw counts would out of time) —
  from running sums over a time-ordered event stream, a close on the same timestamp as the
  creation not counting;
* engagement in the 90 days before ``T``: the account's touches and people engaged.

Label: ``is_won`` of closed deals. A snapshot must be before the close date. Deals without
a creation time cannot be placed in time and are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
from ibis import _

from revloop.analytics.money import corporate_money
from revloop.analytics.scoring.estimator import CATEGORICAL, NUMERIC, FeatureSpec
from revloop.analytics.scoring.features import FeatureBuilder, FeatureQuery
from revloop.analytics.scoring.features_contact import CustomPlan, Excluded, plan_custom
from revloop.analytics.scoring.json_attributes import (
    profile_attributes,
    sample_custom,
)
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

DEAL_COLUMNS = {
    "product": "Product", "opportunity_type": "Deal type", "source_channel": "Source channel",
    "owner_id": "Owner",
}
ACCOUNT_COLUMNS = {
    "industry": ("Account industry", CATEGORICAL), "employees": ("Account employees", NUMERIC),
    "annual_revenue": ("Account annual revenue", NUMERIC),
    "country": ("Account country", CATEGORICAL),
}


SNAPSHOT_AGES = tuple(range(0, 721, 30))  # days after creation (training snapshots)
TERMINAL = ("closed_won", "closed_lost", "won", "lost", "closed")


@dataclass
class OpportunityPlan:
    """The opportunity features of a model, fixed at training."""

    deal_columns: list[str]
    account_columns: list[str]
    account_custom: CustomPlan
    owner_team: bool
    campaign_channel: bool
    stage_history: bool
    amounts: bool
    probabilities: bool
    touches: bool
    excluded: list[Excluded] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> OpportunityPlan:
        c = doc["account_custom"]
        return cls(
            deal_columns=list(doc["deal_columns"]), account_columns=list(doc["account_columns"]),
            account_custom=CustomPlan(list(c["numeric"]), list(c["categorical"]),
                                      [Excluded(**e) for e in c["excluded"]]),
            owner_team=bool(doc["owner_team"]), campaign_channel=bool(doc["campaign_channel"]),
            stage_history=bool(doc["stage_history"]), amounts=bool(doc["amounts"]),
            probabilities=bool(doc["probabilities"]), touches=bool(doc["touches"]),
            excluded=[Excluded(**e) for e in doc["excluded"]],
        )


def _filled(table: Any, cols: Sequence[str]) -> set[str]:
    if not cols:
        return set()
    row = table.aggregate(**{f"n{i}": table[c].count() for i, c in enumerate(cols)}
                          ).to_pyarrow().to_pylist()[0]
    return {c for i, c in enumerate(cols) if row[f"n{i}"]}


def _open_stage_rows(store: Store) -> Any:
    """Stage-history rows of deals that are not a close (what a snapshot may see)."""
    t = store.table(tables.STAGE_TRANSITIONS)
    return t.filter((t.entity_type == "opportunity")
                    & ~t.to_stage.lower().isin(list(TERMINAL)))


def plan_opportunity_features(store: Store, exclude: Sequence[str] = ()) -> OpportunityPlan:
    """Decide the deal features from what the store holds."""
    drop = {e.lower() for e in exclude}
    # amounts in several currencies are refused (naming them), not learnt as one number
    corporate_money(store)
    opps = store.table(tables.OPPORTUNITIES)
    deal_cols = [c for c in DEAL_COLUMNS if c not in drop]
    present = _filled(opps, deal_cols)
    accounts = store.table(tables.ACCOUNTS)
    acc_cols = [c for c in ACCOUNT_COLUMNS if f"account.{c}" not in drop]
    acc_present = _filled(accounts, acc_cols)
    history = _open_stage_rows(store)
    stages = history.aggregate(n=history.count(), stages=history.to_stage.nunique(),
                               amounts=history.amount.count(),
                               probs=history.probability.count()).to_pyarrow().to_pylist()[0]
    users = store.table(tables.USERS)
    campaigns = store.table(tables.CAMPAIGNS)
    excluded = [Excluded("amount", "the final amount (0 for lost deals in some CRMs); the "
                                   "amount recorded at the snapshot is used instead"),
                Excluded("probability", "the final probability; the one recorded at the "
                                        "snapshot is used instead"),
                Excluded("stage", "the current stage is the outcome")]
    return OpportunityPlan(
        deal_columns=[c for c in deal_cols if c in present],
        account_columns=[c for c in acc_cols if c in acc_present],
        account_custom=plan_custom(profile_attributes(sample_custom(accounts, "custom",
                                                                    "account_id")),
                                   exclude, "account.custom."),
        owner_team=bool(users.team_id.count().execute()) and "owner_team" not in drop,
        campaign_channel=bool(campaigns.channel.count().execute())
        and "campaign_channel" not in drop,
        stage_history=bool(stages["stages"] and stages["stages"] > 1)
        and "stage_at" not in drop,
        amounts=bool(stages["amounts"]) and "amount_at" not in drop,
        probabilities=bool(stages["probs"]) and "probability_at" not in drop,
        touches=bool(store.count(tables.TOUCHPOINTS)), excluded=excluded,
    )


def _history(opps: Any, key: str) -> Any:
    """Won/lost deals of the same ``key`` (account or owner) closed before each creation."""
    closes = opps.filter(ibis.coalesce(opps.is_closed, False) & opps.close_date.notnull()
                         & opps[key].notnull())
    closes = closes.select(
        k=closes[key], ts=closes.close_date.cast(opps.created_at.type()),
        creation=ibis.literal(0),
        won=ibis.ifelse(ibis.coalesce(closes.is_won, False), 1, 0),
        lost=ibis.ifelse(ibis.coalesce(closes.is_won, False), 0, 1),
        oid=ibis.null("string"))
    creations = opps.filter(opps[key].notnull()).select(
        k=opps[key], ts=opps.created_at, creation=ibis.literal(1), won=ibis.literal(0),
        lost=ibis.literal(0), oid=opps.opportunity_id)
    events = ibis.union(creations, closes, distinct=False)
    # at equal timestamps creations come first, so a close at that instant is not counted
    w = ibis.cumulative_window(group_by=events.k,
                               order_by=[events.ts, ibis.desc(events.creation), events.oid])
    events = events.mutate(won_before=events.won.sum().over(w),
                           lost_before=events.lost.sum().over(w))
    return events.filter(events.creation == 1).select(
        hk=_.oid, won_before=_.won_before, lost_before=_.lost_before)


def _touches_before(store: Store, opps: Any) -> Any:
    t = store.table(tables.TOUCHPOINTS)
    t = t.filter(t.account_id.notnull()).select(ta=_.account_id, tat=_.occurred_at,
                                                tc=_.contact_id)
    o = opps.select(jo=_.opportunity_id, ja=_.account_id, jt=_.created_at)
    window = 90 * DAY_SECONDS
    j = o.join(t, (o.ja == t.ta) & (t.tat < o.jt))
    j = j.filter((epoch_seconds(j.jt) - epoch_seconds(j.tat)) < window)
    return j.group_by(tk=j.jo).agg(touches_90d=j.count(), engaged_90d=j.tc.nunique())


def _snapshots(opps: Any, ages: Sequence[int] | None, as_of: dt.datetime | None) -> Any:
    """(opportunity, snapshot epoch, days open) rows: fixed ages while open, or ``as_of``."""
    created = epoch_seconds(opps.created_at)
    if as_of is not None:
        return opps.select(sk=opps.opportunity_id, snap=float_literal(epoch_seconds_of(as_of)),
                           days_open=(float_literal(epoch_seconds_of(as_of)) - created)
                           / DAY_SECONDS)
    closes = epoch_seconds(opps.close_date.cast("timestamp"))
    parts = []
    for age in ages or (0,):
        snap = created + float(age) * DAY_SECONDS
        still_open = ~ibis.coalesce(opps.is_closed, False) | opps.close_date.isnull() | (
            snap < closes)
        part = opps.filter(still_open).select(sk=opps.opportunity_id, snap=snap,
                                              days_open=float_literal(float(age)))
        parts.append(part)
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def _stage_at(store: Store, snaps: Any, column: str, name: str) -> Any:
    """The last non-empty ``column`` of the deal's history at or before each snapshot."""
    t = _open_stage_rows(store)
    t = t.filter(t[column].notnull()).select(eid=t.entity_id, at=t.occurred_at,
                                             value=t[column], order=t.to_stage)
    j = snaps.select(jk=_.sk, js=_.snap).join(t, _.jk == t.eid)
    j = j.filter(epoch_seconds(j.at) <= j.js)
    w = ibis.window(group_by=[j.jk, j.js], order_by=[ibis.desc(j.at), ibis.desc(j.order)])
    j = j.mutate(rank=ibis.row_number().over(w), changes=j.count().over(
        ibis.window(group_by=[j.jk, j.js])))
    j = j.filter(j.rank == 0)
    return j.select(**{f"{name}_k": j.jk, f"{name}_s": j.js, name: j.value,
                       f"{name}_changes": j.changes})


def _clean(value: Any) -> Any:
    text = value.cast("string").strip().lower()
    return ibis.ifelse(text == "", ibis.null("string"), text)


def _rate(won: Any, lost: Any) -> Any:
    return (won + 1.0) / (won + lost + 2.0)


def _deals(store: Store, as_of: dt.datetime | None, opportunity_ids: Sequence[str] | None,
           closed_only: bool) -> tuple[Any, Any]:
    """(every placeable deal — the history sees them all —, the deals to snapshot)."""
    all_opps = store.table(tables.OPPORTUNITIES).filter(_.created_at.notnull())
    opps = all_opps
    if as_of is not None:
        opps = opps.filter(opps.created_at < timestamp_literal(as_of))
    if opportunity_ids is not None:
        opps = opps.filter(opps.opportunity_id.isin(list(opportunity_ids)))
    if closed_only:
        opps = opps.filter(ibis.coalesce(opps.is_closed, False))
    return all_opps, opps


def _with_win_history(rel: Any, all_opps: Any) -> Any:
    """``rel`` with the account's (``acc_*``) and owner's (``own_*``) deals won and lost
    before each deal's creation."""
    acc_hist = _history(all_opps, "account_id").rename(acc_won="won_before",
                                                       acc_lost="lost_before", ahk="hk")
    own_hist = _history(all_opps, "owner_id").rename(own_won="won_before",
                                                     own_lost="lost_before", ohk="hk")
    rel = rel.left_join(acc_hist, rel.opportunity_id == acc_hist.ahk).drop("ahk")
    return rel.left_join(own_hist, _.opportunity_id == own_hist.ohk).drop("ohk")


def _with_context(store: Store, rel: Any, plan: OpportunityPlan) -> Any:
    """``rel`` with the account, owner and campaign columns the plan uses (others not
    joined)."""
    if plan.account_columns or plan.account_custom.numeric or plan.account_custom.categorical:
        a = store.table(tables.ACCOUNTS)
        a = a.select(acc_key=a.account_id, acc_custom=a.custom,
                     **{f"acc_{c}": a[c] for c in plan.account_columns})
        rel = rel.left_join(a, _.account_id == a.acc_key).drop("acc_key")
    if plan.owner_team:
        u = store.table(tables.USERS).select(uk=_.user_id, owner_team=_.team_id,
                                        owner_territory=_.territory)
        rel = rel.left_join(u, _.owner_id == u.uk).drop("uk")
    if plan.campaign_channel:
        c = store.table(tables.CAMPAIGNS).select(ck=_.campaign_id, campaign_channel=_.channel)
        rel = rel.left_join(c, _.primary_campaign_id == c.ck).drop("ck")
    return rel


def _with_state_at_snapshot(store: Store, rel: Any, snaps: Any, plan: OpportunityPlan) -> Any:
    """``rel`` with the stage, amount and probability recorded at each snapshot (as planned)."""
    for flag, column, name in ((plan.stage_history, "to_stage", "stage_at"),
                               (plan.amounts, "amount_corporate", "amount_at"),
                               (plan.probabilities, "probability", "probability_at")):
        if flag:
            at = _stage_at(store, snaps, column, name)
            rel = rel.left_join(at, (_.opportunity_id == at[f"{name}_k"])
                                & (_.snap == at[f"{name}_s"])).drop(f"{name}_k", f"{name}_s")
    return rel


def _add_deal(fb: FeatureBuilder, rel: Any, plan: OpportunityPlan) -> None:
    for col in plan.deal_columns:
        fb.add(_clean(rel[col]), FeatureSpec(col, CATEGORICAL, "deal", DEAL_COLUMNS[col]))
    if plan.owner_team:
        fb.add(_clean(rel.owner_team), FeatureSpec("owner_team", CATEGORICAL, "deal",
                                                   "Owner's team"))
        fb.add(_clean(rel.owner_territory), FeatureSpec("owner_territory", CATEGORICAL,
                                                        "deal", "Owner's territory"))
    if plan.campaign_channel:
        fb.add(_clean(rel.campaign_channel), FeatureSpec(
            "campaign_channel", CATEGORICAL, "deal", "Primary campaign channel"))
    fb.add(rel.days_open, FeatureSpec("days_open", NUMERIC, "deal", "Days open"))
    if plan.stage_history:
        fb.add(_clean(rel.stage_at), FeatureSpec("stage_at", CATEGORICAL, "deal",
                                                 "Stage at the time"))
        fb.add(ibis.coalesce(rel.stage_at_changes, 0), FeatureSpec(
            "stage_changes", NUMERIC, "deal", "Stage changes so far"))
    if plan.amounts:
        fb.add(rel.amount_at, FeatureSpec("amount_at", NUMERIC, "deal", "Amount at the time"))
    if plan.probabilities:
        fb.add(rel.probability_at, FeatureSpec("probability_at", NUMERIC, "deal",
                                               "Rep's probability at the time"))


def _add_account(fb: FeatureBuilder, store: Store, rel: Any, plan: OpportunityPlan) -> None:
    for col in plan.account_columns:
        label, kind = ACCOUNT_COLUMNS[col]
        value = rel[f"acc_{col}"]
        fb.add(_clean(value) if kind == CATEGORICAL else value,
               FeatureSpec(f"account.{col}", kind, "firmographic", label))
    for key in plan.account_custom.numeric:
        fb.add(safe_float(json_text(store, rel.acc_custom, key)),
               FeatureSpec(f"account.custom.{key}", NUMERIC, "firmographic", key))
    for key in plan.account_custom.categorical:
        fb.add(json_text(store, rel.acc_custom, key),
               FeatureSpec(f"account.custom.{key}", CATEGORICAL, "firmographic", key))


def _add_history_and_engagement(fb: FeatureBuilder, rel: Any, plan: OpportunityPlan) -> None:
    for prefix, who in (("acc", "account"), ("own", "owner")):
        won = ibis.coalesce(rel[f"{prefix}_won"], 0).cast("float64")
        lost = ibis.coalesce(rel[f"{prefix}_lost"], 0).cast("float64")
        fb.add(_rate(won, lost), FeatureSpec(
            f"{who}_win_rate_before", NUMERIC, "history",
            f"The {who}'s win rate before (smoothed)"))
    if plan.touches:
        fb.add(ibis.coalesce(rel.touches_90d, 0), FeatureSpec(
            "touches_90d_before", NUMERIC, "engagement", "Account touches in the 90 days "
                                                         "before"))
        fb.add(ibis.coalesce(rel.engaged_90d, 0), FeatureSpec(
            "engaged_90d_before", NUMERIC, "engagement", "People engaged in the 90 days "
                                                         "before"))


def opportunity_feature_query(store: Store, plan: OpportunityPlan, *,
                              ages: Sequence[int] | None = None,
                              as_of: dt.datetime | None = None,
                              opportunity_ids: Sequence[str] | None = None,
                              closed_only: bool = False) -> FeatureQuery:
    """Snapshot features of deals: at ``ages`` days after creation while open (training;
    default: at creation), or at ``as_of`` for deals created before it. Helper columns
    ``_created_at``, ``_close_date``, ``_is_closed``, ``_is_won`` come along."""
    all_opps, opps = _deals(store, as_of, opportunity_ids, closed_only)
    snaps = _snapshots(opps, ages, as_of)
    rel = opps.join(snaps, opps.opportunity_id == snaps.sk).drop("sk")
    rel = _with_win_history(rel, all_opps)
    rel = _with_context(store, rel, plan)
    rel = _with_state_at_snapshot(store, rel, snaps, plan)
    if plan.touches:
        tch = _touches_before(store, opps)
        rel = rel.left_join(tch, _.opportunity_id == tch.tk).drop("tk")

    fb = FeatureBuilder()
    # group by group, in this order: the order of the features (and of their columns)
    _add_deal(fb, rel, plan)
    _add_account(fb, store, rel, plan)
    _add_history_and_engagement(fb, rel, plan)
    return fb.query(rel, {"opportunity_id": rel.opportunity_id}, extra={
        "_snapshot_days": rel.days_open,
        "_created_at": rel.created_at, "_close_date": rel.close_date,
        "_is_closed": ibis.coalesce(rel.is_closed, False),
        "_is_won": ibis.coalesce(rel.is_won, False),
    })
