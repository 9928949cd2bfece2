"""What the scoring runners share: the rules file, the as-of date, training options from the
rules file, and records made JSON-ready."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from revloop.analytics.scoring.asof import default_as_of
from revloop.analytics.scoring.catalog import ACCOUNT_MODELS, CONTACT_FIT, OPPORTUNITY_WIN
from revloop.analytics.scoring.errors import ScoringError
from revloop.analytics.scoring.rules import RuleSet, load_rules
from revloop.analytics.scoring.training import (
    AccountOptions,
    ContactFitOptions,
    OpportunityOptions,
)
from revloop.store import Store

DEFAULT_RULES = Path("scoring.yaml")


def as_of_or_default(store: Store, as_of: dt.datetime | None) -> dt.datetime:
    """``as_of``, else the day after the store's latest activity."""
    return as_of if as_of is not None else default_as_of(store)


def rules_or_none(path: str | None, required: bool = False) -> RuleSet | None:
    """The rules file if given (or ./scoring.yaml when it exists)."""
    if path is None:
        if not DEFAULT_RULES.exists():
            if required:
                raise ScoringError("no rules file: pass --rules (see examples/scoring.yaml)")
            return None
        path = str(DEFAULT_RULES)
    return load_rules(path)


def contact_options(rs: RuleSet | None, target_stages: tuple[str, ...],
                    exclude: tuple[str, ...]) -> ContactFitOptions:
    """Contact-fit training options: the request's, then the rules file's, then defaults."""
    file_opts = rs.model_options(CONTACT_FIT) if rs else None
    stages = target_stages or (file_opts.target_stages if file_opts else ()) or ("customer",)
    return ContactFitOptions(target_stages=stages,
                             exclude=exclude + (file_opts.exclude if file_opts else ()))


def account_options(rs: RuleSet | None, horizon_days: int | None,
                    exclude: tuple[str, ...]) -> AccountOptions:
    """Account-model training options: the request's, then the rules file's, then defaults."""
    horizon = horizon_days or (rs.model_options("in_market").horizon_days if rs else None) \
        or 90
    label = (rs.model_options("account_fit").label if rs else None) or "opened"
    if rs:
        for name in ACCOUNT_MODELS:
            exclude += rs.model_options(name).exclude
    return AccountOptions(horizon_days=horizon, fit_label=label, exclude=exclude)


def opportunity_options(rs: RuleSet | None, cutoff: dt.datetime | None,
                        exclude: tuple[str, ...]) -> OpportunityOptions:
    """Win-probability training options."""
    extra = rs.model_options(OPPORTUNITY_WIN).exclude if rs else ()
    return OpportunityOptions(cutoff=cutoff, exclude=exclude + extra)


def plain(value: Any) -> Any:
    """A value from a score frame or a query as JSON: NumPy scalars unwrapped, datetimes as
    ISO text, reason lists decoded."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def records(frame: Any, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of a score frame as JSON-ready dicts."""
    out = []
    for row in frame.head(limit).to_dict(orient="records"):
        out.append({k: json.loads(v) if isinstance(v, str) and k.endswith("reasons")
                    else plain(v) for k, v in row.items()})
    return out


def rows(table: Any, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """An Ibis table's rows as JSON-ready dicts (``drop``: columns left out)."""
    return [{k: plain(v) for k, v in r.items() if k not in drop}
            for r in table.to_pyarrow().to_pylist()]
