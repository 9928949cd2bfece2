"""Contact profile features and labels (the contact fit model), built in Ibis.

Features: who the person is — title, seniority, function, lead source, country,
unsubscribed — their account's firmographics, and every custom attribute of the
contact (numeric when ≥ 95% of its values are numbers, categorical otherwise).

Never features: identifiers and names, free text, and the outcome columns (lifecycle stage,
lead status, conversion fields, owner — assigned after qualification — and record type: a
lead becomes a contact record when it converts, so on the generator's company no lead is
ever a customer). Custom attributes
that look like identifiers (numeric with ≥ 95% distinct values, or text with > 50% distinct
values and more than 100 of them) are left out too, and so is anything the caller excludes
(e.g. X Education's ``Tags`` and ``Lead Quality``, filled in by staff after the outcome).
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
from revloop.analytics.scoring.json_attributes import (
    AttributeProfile,
    profile_attributes,
    sample_custom,
)
from revloop.model import tables
from revloop.store import Store
from revloop.store.queries import (
    float_literal,
    json_key_ok,
    json_text,
    safe_float,
    timestamp_literal,
)

# contact column → label of the reason
PROFILE_COLUMNS = {
    "title": "Title", "seniority": "Seniority", "function": "Function",
    "lead_source": "Lead source", "country": "Country",
}
ACCOUNT_COLUMNS = {
    "industry": ("Account industry", CATEGORICAL), "employees": ("Account employees", NUMERIC),
    "annual_revenue": ("Account annual revenue", NUMERIC),
    "country": ("Account country", CATEGORICAL), "region": ("Account region", CATEGORICAL),
}
OUTCOME_COLUMNS = ("lifecycle_stage", "lead_status", "converted_at", "converted_contact_id",
                   "converted_opportunity_id", "owner_id", "record_type")


@dataclass(frozen=True)
class Excluded:
    """A candidate feature left out, and why."""

    name: str
    reason: str


@dataclass
class CustomPlan:
    """Custom attributes to read, decided from a sample at training time."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)


def plan_custom(profiles: dict[str, AttributeProfile], exclude: Sequence[str],
                prefix: str) -> CustomPlan:
    """Which custom attributes become features (see the module docstring)."""
    drop = {e.lower() for e in exclude}
    plan = CustomPlan()
    for key in sorted(profiles):
        prof = profiles[key]
        name = f"{prefix}{key}"
        if key.lower() in drop or name.lower() in drop:
            plan.excluded.append(Excluded(name, "excluded by request (e.g. it leaks the "
                                                "outcome)"))
        elif not json_key_ok(key):
            plan.excluded.append(Excluded(name, "its name has quotes, brackets or backslashes, "
                                                "which a JSON path cannot address on every "
                                                "engine"))
        elif prof.is_numeric and prof.present >= 20 and prof.distinct >= 0.95 * prof.present:
            plan.excluded.append(Excluded(name, f"identifier-like: {prof.distinct:,} distinct "
                                                f"numbers in {prof.present:,} rows"))
        elif not prof.is_numeric and prof.distinct > 100 and \
                prof.distinct > 0.5 * prof.present:
            plan.excluded.append(Excluded(name, f"free text or identifier: {prof.distinct:,} "
                                                f"distinct values in {prof.present:,} rows"))
        elif prof.distinct < 2:
            plan.excluded.append(Excluded(name, "a single value"))
        elif prof.is_numeric:
            plan.numeric.append(key)
        else:
            plan.categorical.append(key)
    return plan


@dataclass
class ContactPlan:
    """The contact features of a model, fixed at training so that apply builds the same."""

    columns: list[str]
    account_columns: list[str]
    custom: CustomPlan
    excluded: list[Excluded] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ContactPlan:
        custom = doc["custom"]
        return cls(
            columns=list(doc["columns"]), account_columns=list(doc["account_columns"]),
            custom=CustomPlan(list(custom["numeric"]), list(custom["categorical"]),
                              [Excluded(**e) for e in custom["excluded"]]),
            excluded=[Excluded(**e) for e in doc["excluded"]],
        )


def _non_empty(table: Any, columns: Sequence[str]) -> set[str]:
    if not columns:
        return set()
    counts = table.aggregate(**{f"n{i}": table[c].count() for i, c in enumerate(columns)})
    row = counts.to_pyarrow().to_pylist()[0]
    return {c for i, c in enumerate(columns) if row[f"n{i}"]}


def plan_contact_features(store: Store, exclude: Sequence[str] = ()) -> ContactPlan:
    """Decide the contact features from what the store holds."""
    drop = {e.lower() for e in exclude}
    contacts = store.table(tables.CONTACTS)
    excluded = [Excluded(c, "outcome or owner column (known only after qualification; a lead "
                            "becomes a contact record when it converts)")
                for c in OUTCOME_COLUMNS]
    cols = []
    for c in (*PROFILE_COLUMNS, "is_unsubscribed"):
        if c.lower() in drop:
            excluded.append(Excluded(c, "excluded by request"))
        else:
            cols.append(c)
    present = _non_empty(contacts, cols)
    account_cols = []
    if store.count(tables.ACCOUNTS):
        accounts = store.table(tables.ACCOUNTS)
        wanted = [c for c in ACCOUNT_COLUMNS if f"account.{c}" not in drop]
        account_cols = sorted(_non_empty(accounts, wanted), key=wanted.index)
    custom = plan_custom(
        profile_attributes(sample_custom(contacts, "custom", "contact_id")), exclude,
        "custom.")
    return ContactPlan(columns=[c for c in cols if c in present],
                       account_columns=account_cols, custom=custom, excluded=excluded)


def contact_feature_query(store: Store, plan: ContactPlan, as_of: dt.datetime | None = None,
                          contact_ids: Sequence[str] | None = None) -> FeatureQuery:
    """Features of the contacts known at ``as_of`` (all when None)."""
    c = store.table(tables.CONTACTS)
    if as_of is not None:
        c = c.filter(c.created_at.isnull() | (c.created_at < timestamp_literal(as_of)))
    if contact_ids is not None:
        c = c.filter(c.contact_id.isin(list(contact_ids)))
    rel = c
    if plan.account_columns:
        a = store.table(tables.ACCOUNTS)
        a = a.select(acc_key=a.account_id, **{f"acc_{k}": a[k] for k in plan.account_columns})
        rel = rel.left_join(a, rel.account_id == a.acc_key)
    fb = FeatureBuilder()
    for col in plan.columns:
        if col == "is_unsubscribed":
            fb.add(ibis.ifelse(rel.is_unsubscribed, float_literal(1.0), float_literal(0.0)),
                   FeatureSpec("is_unsubscribed", NUMERIC, "profile", "Unsubscribed"))
        else:
            fb.add(_clean_text(rel[col]), FeatureSpec(col, CATEGORICAL, "profile",
                                                      PROFILE_COLUMNS[col]))
    for col in plan.account_columns:
        label, kind = ACCOUNT_COLUMNS[col]
        value = rel[f"acc_{col}"]
        fb.add(_clean_text(value) if kind == CATEGORICAL else value,
               FeatureSpec(f"account.{col}", kind, "firmographic", label))
    for key in plan.custom.numeric:
        fb.add(safe_float(json_text(store, rel.custom, key)),
               FeatureSpec(f"custom.{key}", NUMERIC, "profile", key))
    for key in plan.custom.categorical:
        fb.add(json_text(store, rel.custom, key),
               FeatureSpec(f"custom.{key}", CATEGORICAL, "profile", key))
    return fb.query(rel, {"contact_id": rel.contact_id})


def _clean_text(value: Any) -> Any:
    text = value.cast("string").strip().lower()
    return ibis.ifelse(text == "", ibis.null("string"), text)


def contact_labels(store: Store, target_stages: Sequence[str]) -> Any:
    """contact_id → 1 when the person reached one of ``target_stages`` (by their lifecycle
    stage or any stage transition), else 0."""
    stages = [s.lower() for s in target_stages]
    contacts = store.table(tables.CONTACTS)
    reached = contacts.lifecycle_stage.lower().isin(stages)
    t = store.table(tables.STAGE_TRANSITIONS)
    moved = t.filter(t.entity_type.isin(["lead", "contact"]) & t.to_stage.lower().isin(stages))
    moved = moved.select(m_id=_.entity_id).distinct()
    out = contacts.left_join(moved, contacts.contact_id == moved.m_id)
    return out.select(contact_id=out.contact_id,
                      label=ibis.ifelse(ibis.coalesce(reached, False) | out.m_id.notnull(),
                                        1, 0))
