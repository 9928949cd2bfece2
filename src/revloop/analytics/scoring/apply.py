"""Scoring records with stored models: probabilities, 0–100 scores, buckets, top-3 reasons,
and for accounts the buying stage and the 6QA flag."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from revloop.analytics.scoring.buckets import buying_stage, fit_bucket, grade, is_6qa
from revloop.analytics.scoring.estimator import GradientBoostedScorer
from revloop.analytics.scoring.features_account import (
    ACTIVITY_AGE,
    OPEN_OPPORTUNITIES,
    AccountPlan,
    account_feature_query,
)
from revloop.analytics.scoring.features_contact import ContactPlan, contact_feature_query
from revloop.analytics.scoring.features_opportunity import (
    OpportunityPlan,
    opportunity_feature_query,
)
from revloop.analytics.scoring.model_store import StoredModel, load_model
from revloop.analytics.scoring.rules import FitBuckets, StageThresholds
from revloop.store import Store

CONTACT_SCORES = "contact_scores"
OPPORTUNITY_SCORES = "opportunity_scores"
ACCOUNT_SCORES = "account_scores"


@dataclass
class LoadedModel:
    """A stored model ready to score."""

    name: str
    model_id: str
    scorer: GradientBoostedScorer
    plan: dict[str, Any]
    options: dict[str, Any]
    card: dict[str, Any]


def load(store: Store, name: str, version: int | None = None) -> LoadedModel:
    """The latest (or given) version of model ``name``, deserialised."""
    stored: StoredModel = load_model(store, name, version)
    doc = stored.payload
    return LoadedModel(name, stored.model_id, GradientBoostedScorer.from_payload(doc["scorer"]),
                       doc["plan"], doc.get("options", {}), stored.card)


def _score_frame(model: LoadedModel, frame: pd.DataFrame, key: str,
                 as_of: dt.datetime | None) -> pd.DataFrame:
    _, prob, score = model.scorer.predict_all(frame)
    texts, reasons = model.scorer.reason_columns(frame, 3)
    out = pd.DataFrame({
        key: frame[key].to_numpy(), "model_id": model.model_id,
        "as_of": pd.Timestamp(as_of) if as_of is not None else pd.NaT,
        "probability": np.round(prob, 6), "score": score, "bucket": grade(score),
    })
    for k in range(3):
        out[f"reason_{k + 1}"] = texts[k] if texts[k] else None
    out["reasons"] = reasons
    return out


def score_contacts(store: Store, model: LoadedModel, as_of: dt.datetime | None,
                   contact_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """contact_fit scores of the contacts known at ``as_of``."""
    plan = ContactPlan.from_dict(model.plan)
    frame = contact_feature_query(store, plan, as_of, contact_ids).fetch()
    return _score_frame(model, frame, "contact_id", as_of)


def score_opportunities(store: Store, model: LoadedModel, as_of: dt.datetime | None,
                        opportunity_ids: Sequence[str] | None = None,
                        open_only: bool = True) -> pd.DataFrame:
    """Win probability at ``as_of`` of the deals created before it (open ones by default;
    ``as_of`` None: at creation)."""
    plan = OpportunityPlan.from_dict(model.plan)
    frame = opportunity_feature_query(store, plan, as_of=as_of,
                                      opportunity_ids=opportunity_ids).fetch()
    if open_only and opportunity_ids is None:
        closed = frame["_is_closed"].astype(bool)
        if as_of is not None:
            closed &= pd.to_datetime(frame["_close_date"]) < pd.Timestamp(as_of.date())
        frame = frame[~closed].reset_index(drop=True)
    return _score_frame(model, frame, "opportunity_id", as_of)


def score_accounts(store: Store, models: dict[str, LoadedModel], as_of: dt.datetime,
                   stages: StageThresholds, fit_buckets: FitBuckets,
                   account_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Every account model's score, the buying stage and the 6QA flag at ``as_of``."""
    plans: dict[str, pd.DataFrame] = {}
    out: pd.DataFrame | None = None
    for name, model in models.items():
        key = json.dumps(model.plan, sort_keys=True)
        if key not in plans:
            plans[key] = account_feature_query(store, AccountPlan.from_dict(model.plan), as_of,
                                               account_ids).fetch()
        frame = plans[key]
        if out is None:
            out = pd.DataFrame({
                "account_id": frame["account_id"].to_numpy(), "as_of": pd.Timestamp(as_of),
                "has_open_opportunity": frame[OPEN_OPPORTUNITIES].to_numpy() > 0,
                "days_since_activity": np.round(frame[ACTIVITY_AGE].to_numpy(
                    dtype=np.float64), 2),
            })
        scored = _score_frame(model, frame, "account_id", as_of).set_index("account_id")
        scored = scored.reindex(out["account_id"])
        out[f"{name}_probability"] = scored["probability"].to_numpy()
        out[f"{name}_score"] = scored["score"].to_numpy()
        out[f"{name}_bucket"] = scored["bucket"].to_numpy()
        out[f"{name}_reasons"] = scored["reasons"].to_numpy()
        out[f"{name}_model"] = model.model_id
    if out is None:
        return pd.DataFrame()
    out["days_since_activity"] = out["days_since_activity"].where(
        out["days_since_activity"] < 1e8)
    if "account_fit" in models:
        out["fit_level"] = fit_bucket(out["account_fit_score"].to_numpy(), fit_buckets)
    if "in_market" in models:
        active = out["days_since_activity"].fillna(np.inf).to_numpy() < stages.activity_days
        out["buying_stage"] = buying_stage(out["in_market_probability"].to_numpy(), active,
                                           stages)
    if "account_fit" in models and "in_market" in models:
        out["is_6qa"] = is_6qa(out["fit_level"].to_numpy(), out["buying_stage"].to_numpy())
    return out


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A score frame as Arrow with store-friendly types (strings, floats, naive µs)."""
    cols = {}
    for name in frame.columns:
        s = frame[name]
        if pd.api.types.is_bool_dtype(s):
            cols[name] = pa.array(s.to_numpy(dtype=bool))
        elif pd.api.types.is_datetime64_any_dtype(s):
            cols[name] = pa.array(s.dt.tz_localize(None) if s.dt.tz is not None else s,
                                  pa.timestamp("us"))
        elif pd.api.types.is_numeric_dtype(s):
            cols[name] = pa.array(s.to_numpy(dtype=np.float64), pa.float64(), from_pandas=True)
        else:
            cols[name] = pa.array([None if v is None or (isinstance(v, float) and np.isnan(v))
                                   else str(v) for v in s], pa.string())
    return pa.table(cols)
