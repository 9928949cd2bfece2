"""Scoring for the interfaces: rule-based lead scores, predictive models, evaluation.

Typed requests in, typed results out (each with ``to_dict()`` for ``--json``). No SQL here:
queries live in :mod:`revloop.analytics.scoring`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from revloop.analytics.scoring.asof import default_as_of, parse_as_of
from revloop.analytics.scoring.errors import ScoringError
from revloop.analytics.scoring.rules_engine import score_rules
from revloop.analytics.scoring.rules_file import RuleSet, load_rules
from revloop.store import Store

__all__ = [
    "ApplyRequest",
    "ApplyResult",
    "EvaluateRequest",
    "EvaluateResult",
    "ExplainRequest",
    "Explanation",
    "RulesRequest",
    "RulesResult",
    "RulesSummary",
    "TrainRequest",
    "TrainResult",
    "apply",
    "check_rules",
    "contact_score_log",
    "evaluate",
    "explain",
    "list_models",
    "resolve_models",
    "run_rules",
    "train",
]

LEAD_SCORES = "lead_scores"
LEAD_SCORE_LOG = "lead_score_log"
LEAD_SCORE_GROUPS = "lead_score_groups"


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _as_of(store: Store, value: str | dt.date | dt.datetime | None) -> dt.datetime:
    parsed = parse_as_of(value)
    return parsed if parsed is not None else default_as_of(store)


# ----------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class RulesSummary:
    """What a rules file says, after validation."""

    path: str
    name: str
    content_hash: str
    mql_threshold: float | None
    groups: list[dict[str, Any]]
    rules: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _summary(rs: RuleSet) -> RulesSummary:
    return RulesSummary(
        path=rs.path, name=rs.name, content_hash=rs.content_hash,
        mql_threshold=rs.mql_threshold,
        groups=[asdict(g) for g in rs.groups.values()],
        rules=[{
            "name": r.name, "kind": r.kind, "group": r.group, "points": r.points,
            "once": r.once, "cap": r.cap, "half_life_days": r.half_life_days,
            "conditions": [c.describe() for c in r.conditions],
            "match": "any" if r.match_any else "all", "line": r.line,
        } for r in rs.rules],
    )


def check_rules(path: str | Path) -> RulesSummary:
    """Validate a rules file (``RulesFileError`` lists every problem)."""
    return _summary(load_rules(path))


@dataclass(frozen=True)
class RulesRequest:
    """Score contacts with a rules file as of a date."""

    rules: str | Path = "scoring.yaml"
    as_of: str | dt.date | dt.datetime | None = None  # default: the day after the data ends
    contact_ids: Sequence[str] | None = None  # only these (then nothing is stored)
    persist: bool = True  # write lead_scores, lead_score_log, lead_score_groups
    top: int = 20


@dataclass
class RulesResult:
    """Rule scores of one run: totals, per-rule figures and the top contacts."""

    rules: RulesSummary
    as_of: dt.datetime
    contacts: int
    mqls: int
    events: int
    by_rule: list[dict[str, Any]]
    top: list[dict[str, Any]]
    tables: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules_file": self.rules.path, "rules_name": self.rules.name,
            "rules_hash": self.rules.content_hash, "mql_threshold": self.rules.mql_threshold,
            "as_of": self.as_of.isoformat(), "contacts": self.contacts, "mqls": self.mqls,
            "events": self.events, "by_rule": self.by_rule,
            "top": [{k: _iso(v) for k, v in r.items()} for r in self.top],
            "tables": self.tables,
        }


def run_rules(store: Store, request: RulesRequest) -> RulesResult:
    """Compute rule scores as of a date; store them unless asked not to."""
    rs = load_rules(request.rules)
    as_of = _as_of(store, request.as_of)
    if "contacts" not in store.list_tables():
        raise ScoringError("the store has no contacts mart: run `revloop build` first")
    tables = score_rules(store, rs, as_of, request.contact_ids)
    written: list[str] = []
    log, scores = tables.log, tables.scores
    if request.persist and request.contact_ids is None:
        store.replace_table(LEAD_SCORE_LOG, tables.log)
        store.replace_table(LEAD_SCORES, tables.scores)
        store.replace_table(LEAD_SCORE_GROUPS, tables.groups)
        written = [LEAD_SCORES, LEAD_SCORE_LOG, LEAD_SCORE_GROUPS]
        log, scores = store.table(LEAD_SCORE_LOG), store.table(LEAD_SCORES)
    totals: dict[str, Any] = scores.aggregate(
        n=scores.count(), mqls=scores.is_mql.cast("int64").sum()).to_pyarrow().to_pylist()[0]
    per_rule = log.group_by(["rule", "kind", "group_name"]).aggregate(
        fired=log.count(), contacts=log.contact_id.nunique(),
        effective_points=log.effective_points.sum(),
    ).to_pyarrow().to_pylist()
    stats = {r["rule"]: r for r in per_rule}
    by_rule: list[dict[str, Any]] = []
    for rule in rs.rules:
        s = stats.get(rule.name, {})
        by_rule.append({
            "rule": rule.name, "kind": rule.kind, "group": rule.group, "points": rule.points,
            "fired": int(s.get("fired") or 0), "contacts": int(s.get("contacts") or 0),
            "effective_points": round(float(s.get("effective_points") or 0.0), 4),
        })
    top = scores.order_by([scores.score.desc(), scores.contact_id]).limit(
        max(request.top, 0)).to_pyarrow().to_pylist()
    return RulesResult(
        rules=_summary(rs), as_of=as_of, contacts=int(totals["n"] or 0),
        mqls=int(totals["mqls"] or 0), events=sum(r["fired"] for r in by_rule),
        by_rule=by_rule, top=top, tables=written,
    )


def contact_score_log(store: Store, rules: str | Path, contact_id: str,
                      as_of: str | dt.date | dt.datetime | None = None) -> dict[str, Any]:
    """One contact's rule score, group scores and every rule that fired, oldest first."""
    rs = load_rules(rules)
    when = _as_of(store, as_of)
    tables = score_rules(store, rs, when, [contact_id])
    scores = tables.scores.to_pyarrow().to_pylist()
    if not scores:
        return {}
    log = tables.log.order_by(["occurred_at", "rule", "touchpoint_id"]).to_pyarrow().to_pylist()
    groups = tables.groups.order_by("group_name").to_pyarrow().to_pylist()
    return {
        "rules_file": rs.path, "as_of": when.isoformat(), "mql_threshold": rs.mql_threshold,
        **{k: _iso(v) for k, v in scores[0].items() if k not in ("as_of",)},
        "groups": [{k: _iso(v) for k, v in g.items() if k != "as_of"} for g in groups],
        "log": [{k: _iso(v) for k, v in e.items() if k != "as_of"} for e in log],
    }


# ----------------------------------------------------------------------------- models

MODEL_ALIASES = {
    "contact": ["contact_fit"], "contact_fit": ["contact_fit"], "contact-fit": ["contact_fit"],
    "opportunity": ["opportunity_win"], "opportunity_win": ["opportunity_win"],
    "win": ["opportunity_win"], "opportunity-win": ["opportunity_win"],
    "account_fit": ["account_fit"], "account-fit": ["account_fit"], "fit": ["account_fit"],
    "engagement": ["engagement"], "intent": ["intent"], "in_market": ["in_market"],
    "in-market": ["in_market"],
    "accounts": ["account_fit", "engagement", "intent", "in_market"],
    "all": ["contact_fit", "opportunity_win", "account_fit", "engagement", "intent",
            "in_market"],
}


def resolve_models(names: Sequence[str]) -> list[str]:
    """Canonical model names of CLI words (``contact``, ``accounts``, ``in-market``, …)."""
    out: list[str] = []
    for raw in names:
        for word in str(raw).split(","):
            key = word.strip().lower()
            if not key:
                continue
            if key not in MODEL_ALIASES:
                raise ScoringError(f"unknown model {word!r}; expected one of "
                                   f"{', '.join(sorted(MODEL_ALIASES))}")
            out += [m for m in MODEL_ALIASES[key] if m not in out]
    return out or list(MODEL_ALIASES["all"])


def _rules_or_none(path: str | Path | None, required: bool = False) -> RuleSet | None:
    """The rules file if given (or ./scoring.yaml when it exists)."""
    if path is None:
        default = Path("scoring.yaml")
        if not default.exists():
            if required:
                raise ScoringError("no rules file: pass --rules (see examples/scoring.yaml)")
            return None
        path = default
    return load_rules(path)


def _parse_cutoff(value: str | dt.date | dt.datetime | None) -> dt.datetime | None:
    return parse_as_of(value)


@dataclass(frozen=True)
class TrainRequest:
    """Train models and store a new version of each."""

    models: Sequence[str] = ("all",)
    rules: str | Path | None = None  # rules file: models: options, MQL baseline
    cutoff: str | dt.date | dt.datetime | None = None  # learn only from what was known then
    exclude: Sequence[str] = ()  # features/attributes to leave out (added to the file's)
    target_stages: Sequence[str] = ()  # contact_fit outcome (default: the file's or customer)
    horizon_days: int | None = None
    persist: bool = True


@dataclass
class TrainResult:
    """The stored versions and their cards; the models skipped and why."""

    trained: list[dict[str, Any]]
    skipped: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"trained": self.trained, "skipped": self.skipped}


def _contact_options(rs: RuleSet | None, request: Any) -> Any:
    from revloop.analytics.scoring.training import ContactFitOptions

    file_opts = rs.model_options("contact_fit") if rs else None
    stages = tuple(request.target_stages) or (file_opts.target_stages if file_opts else ()) \
        or ("customer",)
    exclude = tuple(request.exclude) + (file_opts.exclude if file_opts else ())
    return ContactFitOptions(target_stages=stages, exclude=exclude)


def _account_options(rs: RuleSet | None, request: Any) -> Any:
    from revloop.analytics.scoring.training import AccountOptions

    horizon = request.horizon_days or (rs.model_options("in_market").horizon_days
                                       if rs else None) or 90
    label = (rs.model_options("account_fit").label if rs else None) or "opened"
    exclude = tuple(request.exclude)
    if rs:
        for name in ("account_fit", "engagement", "intent", "in_market"):
            exclude += rs.model_options(name).exclude
    return AccountOptions(horizon_days=horizon, fit_label=label, exclude=exclude)


def _opportunity_options(rs: RuleSet | None, request: Any, cutoff: dt.datetime | None) -> Any:
    from revloop.analytics.scoring.training import OpportunityOptions

    exclude = tuple(request.exclude) + (rs.model_options("opportunity_win").exclude
                                        if rs else ())
    return OpportunityOptions(cutoff=cutoff, exclude=exclude)


def _trainable(store: Store) -> dict[str, str | None]:
    """Why each model cannot be trained on this store (None: it can)."""
    why: dict[str, str | None] = {}
    contacts = store.count("contacts")
    why["contact_fit"] = None if contacts else "no contacts"
    opps = store.count("opportunities")
    why["opportunity_win"] = None if opps else "no opportunities"
    accounts = store.count("accounts")
    for name in ("account_fit", "engagement", "intent", "in_market"):
        why[name] = None if accounts and opps else "needs accounts and opportunities"
    if not store.count("touchpoints"):
        why["engagement"] = why["engagement"] or "no touchpoints"
    if not store.count("intent_signals"):
        why["intent"] = why["intent"] or "no intent signals"
    return why


def train(store: Store, request: TrainRequest) -> TrainResult:
    """Train the requested models; store each as a new version with its model card."""
    from revloop.analytics.scoring.model_store import save_model
    from revloop.analytics.scoring.training import (
        train_account_models,
        train_contact_fit,
        train_opportunity_win,
    )

    names = resolve_models(request.models)
    explicit = not any(str(m).lower() == "all" for m in request.models)
    rs = _rules_or_none(request.rules)
    cutoff = _parse_cutoff(request.cutoff)
    why = _trainable(store)
    skipped: dict[str, str] = {}
    fitted = []
    runnable = []
    for name in names:
        if why[name] is not None:
            if explicit:
                raise ScoringError(f"cannot train {name}: {why[name]} in this store")
            skipped[name] = str(why[name])
        else:
            runnable.append(name)

    def attempt(name: str, fn: Any) -> None:
        try:
            result = fn()
        except ScoringError as exc:
            if explicit:
                raise
            skipped[name] = exc.message
            return
        fitted.extend(result if isinstance(result, list) else [result])

    if "contact_fit" in runnable:
        attempt("contact_fit", lambda: train_contact_fit(store, _contact_options(rs, request)))
    if "opportunity_win" in runnable:
        attempt("opportunity_win", lambda: train_opportunity_win(
            store, _opportunity_options(rs, request, cutoff)))
    account_names = [n for n in runnable if n in ("account_fit", "engagement", "intent",
                                                  "in_market")]
    if account_names:
        attempt(",".join(account_names), lambda: list(train_account_models(
            store, cutoff, _account_options(rs, request), account_names).values()))
    trained = []
    for model in fitted:
        card = model.card
        if request.persist:
            stored = save_model(store, model.name, card, model.payload())
            card = stored.card
        trained.append(card)
    return TrainResult(trained=trained, skipped=skipped)


def list_models(store: Store) -> list[dict[str, Any]]:
    """Every stored model version with its card."""
    from revloop.analytics.scoring.model_store import list_models as _list

    rows = _list(store)
    for r in rows:
        r["created_at"] = _iso(r["created_at"])
    return rows


# ----------------------------------------------------------------------------- apply

@dataclass(frozen=True)
class ApplyRequest:
    """Score records with the latest stored versions."""

    models: Sequence[str] = ("all",)
    as_of: str | dt.date | dt.datetime | None = None
    rules: str | Path | None = None  # stages: and fit_buckets: of the rules file
    persist: bool = True
    top: int = 10


@dataclass
class ApplyResult:
    """Per model: how many records, the bucket counts and the top records."""

    as_of: dt.datetime
    results: dict[str, dict[str, Any]]
    tables: list[str]
    skipped: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "results": self.results,
                "tables": self.tables, "skipped": self.skipped}


def _records(frame: Any, limit: int) -> list[dict[str, Any]]:
    import json as _json

    rows: list[dict[str, Any]] = frame.head(limit).to_dict(orient="records")
    out = []
    for r in rows:
        clean: dict[str, Any] = {}
        for k, v in r.items():
            if isinstance(v, str) and k.endswith("reasons"):
                clean[k] = _json.loads(v)
            elif hasattr(v, "item"):
                clean[k] = v.item()
            elif hasattr(v, "isoformat"):
                clean[k] = v.isoformat()
            else:
                clean[k] = v
        out.append(clean)
    return out


def apply(store: Store, request: ApplyRequest) -> ApplyResult:
    """Score contacts, open deals and accounts; store contact_scores / opportunity_scores /
    account_scores."""
    from revloop.analytics.scoring import apply as scoring_apply
    from revloop.analytics.scoring.errors import ModelNotFoundError
    from revloop.analytics.scoring.rules_file import FitBuckets, StageThresholds

    names = resolve_models(request.models)
    explicit = not any(str(m).lower() == "all" for m in request.models)
    as_of = _as_of(store, request.as_of)
    rs = _rules_or_none(request.rules)
    loaded: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for name in names:
        try:
            loaded[name] = scoring_apply.load(store, name)
        except ModelNotFoundError as exc:
            if explicit:
                raise
            skipped[name] = exc.message
    results: dict[str, dict[str, Any]] = {}
    tables: list[str] = []
    if "contact_fit" in loaded:
        frame = scoring_apply.score_contacts(store, loaded["contact_fit"], as_of)
        frame = frame.sort_values(["score", "contact_id"], ascending=[False, True])
        results["contact_fit"] = _summary_of(frame, "bucket", loaded["contact_fit"].model_id,
                                             request.top)
        if request.persist:
            store.write_arrow(scoring_apply.CONTACT_SCORES, scoring_apply.to_arrow(frame))
            tables.append(scoring_apply.CONTACT_SCORES)
    if "opportunity_win" in loaded:
        frame = scoring_apply.score_opportunities(store, loaded["opportunity_win"], as_of)
        frame = frame.sort_values(["score", "opportunity_id"], ascending=[False, True])
        results["opportunity_win"] = _summary_of(frame, "bucket",
                                                 loaded["opportunity_win"].model_id,
                                                 request.top)
        if request.persist:
            store.write_arrow(scoring_apply.OPPORTUNITY_SCORES, scoring_apply.to_arrow(frame))
            tables.append(scoring_apply.OPPORTUNITY_SCORES)
    account_models = {n: m for n, m in loaded.items()
                      if n in ("account_fit", "engagement", "intent", "in_market")}
    if account_models:
        frame = scoring_apply.score_accounts(
            store, account_models, as_of, rs.stages if rs else StageThresholds(),
            rs.fit_buckets if rs else FitBuckets())
        sort = "in_market_score" if "in_market" in account_models else \
            f"{next(iter(account_models))}_score"
        frame = frame.sort_values([sort, "account_id"], ascending=[False, True])
        summary: dict[str, Any] = {"rows": len(frame), "models": {
            n: m.model_id for n, m in account_models.items()}}
        if "buying_stage" in frame.columns:
            summary["buying_stages"] = {k: int(v) for k, v in
                                        frame["buying_stage"].value_counts().items()}
        if "is_6qa" in frame.columns:
            summary["6qa"] = int(frame["is_6qa"].sum())
        if "fit_level" in frame.columns:
            summary["fit_levels"] = {k: int(v) for k, v in
                                     frame["fit_level"].value_counts().items()}
        summary["top"] = _records(frame, request.top)
        results["accounts"] = summary
        if request.persist:
            store.write_arrow(scoring_apply.ACCOUNT_SCORES, scoring_apply.to_arrow(frame))
            tables.append(scoring_apply.ACCOUNT_SCORES)
    return ApplyResult(as_of=as_of, results=results, tables=tables, skipped=skipped)


def _summary_of(frame: Any, bucket: str, model_id: str, top: int) -> dict[str, Any]:
    return {"model": model_id, "rows": len(frame),
            "buckets": {k: int(v) for k, v in frame[bucket].value_counts().sort_index().items()},
            "top": _records(frame, top)}


# ----------------------------------------------------------------------------- evaluate

@dataclass(frozen=True)
class EvaluateRequest:
    """Evaluate a model on data it does not learn from."""

    model: str = "contact"
    rules: str | Path | None = None  # MQL baseline, stages, options
    folds: int = 5  # contact_fit cross-validation
    cutoff: str | dt.date | dt.datetime | None = None  # out-of-time split
    exclude: Sequence[str] = ()
    target_stages: Sequence[str] = ()
    horizon_days: int | None = None
    eval_snapshots: int = 3
    plots: str | Path | None = None  # folder for PNG/SVG plots


@dataclass
class EvaluateResult:
    """One evaluation per model evaluated, and the plot files."""

    evaluations: list[dict[str, Any]]
    plots: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"evaluations": self.evaluations, "plots": self.plots}


def evaluate(store: Store, request: EvaluateRequest) -> EvaluateResult:
    """contact: k-fold CV; opportunity: out-of-time by close date; accounts: out-of-time
    backtest against the MQL baseline (and the truth tables when present)."""
    from revloop.analytics.scoring.evaluation import (
        backtest_accounts,
        backtest_opportunity_win,
        cross_validate_contact_fit,
    )
    from revloop.analytics.scoring.plotting import plot_evaluation

    names = resolve_models([request.model])
    rs = _rules_or_none(request.rules)
    cutoff = _parse_cutoff(request.cutoff)
    evaluations = []
    if "contact_fit" in names and len(names) == 1:
        evaluations.append(cross_validate_contact_fit(
            store, _contact_options(rs, request), folds=request.folds, rules=rs))
    elif "opportunity_win" in names and len(names) == 1:
        evaluations.append(backtest_opportunity_win(
            store, _opportunity_options(rs, request, cutoff)))
    elif set(names) <= {"account_fit", "engagement", "intent", "in_market"}:
        evs = backtest_accounts(store, _account_options(rs, request), cutoff=cutoff, rules=rs,
                                eval_snapshots=request.eval_snapshots)
        evaluations += [evs[n] for n in ("in_market", "engagement", "intent", "account_fit")
                        if n in evs and (n in names or len(names) == 4)]
    else:
        raise ScoringError("evaluate one model at a time: contact, opportunity, or an account "
                           "model (account-fit, engagement, intent, in-market, accounts)")
    plots: list[str] = []
    if request.plots:
        for ev in evaluations:
            plots += [str(p) for p in plot_evaluation(ev, request.plots)]
    docs = [ev.to_dict() for ev in evaluations]
    _record_evaluations(store, docs)
    return EvaluateResult(evaluations=docs, plots=plots)


def _record_evaluations(store: Store, docs: list[dict[str, Any]]) -> None:
    """Append to ``scoring_evaluations`` (history of every evaluation run)."""
    import json as _json

    import pyarrow as pa

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    schema = pa.schema([("evaluated_at", pa.timestamp("us")), ("model", pa.string()),
                        ("method", pa.string()), ("metrics", pa.string()),
                        ("evaluation", pa.string())])
    new = pa.table({
        "evaluated_at": [now] * len(docs), "model": [d["model"] for d in docs],
        "method": [d["method"] for d in docs],
        "metrics": [_json.dumps(d["metrics"], default=str) for d in docs],
        "evaluation": [_json.dumps(d, default=str) for d in docs],
    }, schema=schema)
    if "scoring_evaluations" in store.list_tables():
        old = store.table("scoring_evaluations").to_pyarrow().select(schema.names).cast(schema)
        new = pa.concat_tables([old, new])
    store.write_arrow("scoring_evaluations", new)


# ----------------------------------------------------------------------------- explain

@dataclass(frozen=True)
class ExplainRequest:
    """Why a contact, account or deal scores what it does."""

    id: str
    as_of: str | dt.date | dt.datetime | None = None
    rules: str | Path | None = None


@dataclass
class Explanation:
    """Everything known about one record's scores."""

    id: str
    kind: str  # contact | account | opportunity
    as_of: dt.datetime
    rule_score: dict[str, Any] | None
    models: dict[str, dict[str, Any]]
    related: list[dict[str, Any]]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "as_of": self.as_of.isoformat(),
                "rule_score": self.rule_score, "models": self.models, "related": self.related,
                "notes": self.notes}


def _find(store: Store, record_id: str) -> tuple[str, str] | None:
    """(kind, canonical id) of an id: contact (merged ids resolved), account or deal."""
    tables = set(store.list_tables())
    if "contacts" in tables:
        c = store.table("contacts")
        if c.filter(c.contact_id == record_id).count().execute():
            return "contact", record_id
        if "int_contact_merges" in tables:
            m = store.table("int_contact_merges")
            rows = m.filter(m.contact_id == record_id).select(
                "canonical_contact_id").to_pyarrow().to_pylist()
            if rows:
                return "contact", str(rows[0]["canonical_contact_id"])
    for kind, table, key in (("account", "accounts", "account_id"),
                             ("opportunity", "opportunities", "opportunity_id")):
        if table in tables:
            t = store.table(table)
            if t.filter(t[key] == record_id).count().execute():
                return kind, record_id
    return None


def _model_detail(frame: Any, prefix: str = "") -> dict[str, Any]:
    import json as _json

    if frame is None or not len(frame):
        return {}
    row = frame.iloc[0]
    reasons = row[f"{prefix}reasons"]
    return {"model": row[f"{prefix}model" if prefix else "model_id"],
            "probability": float(row[f"{prefix}probability"]),
            "score": float(row[f"{prefix}score"]), "bucket": str(row[f"{prefix}bucket"]),
            "reasons": _json.loads(reasons) if isinstance(reasons, str) else []}


def explain(store: Store, request: ExplainRequest) -> Explanation:
    """A record's rule score log and every model's score with its top reasons."""
    from revloop.analytics.scoring import apply as scoring_apply
    from revloop.analytics.scoring.errors import ModelNotFoundError
    from revloop.analytics.scoring.rules_file import FitBuckets, StageThresholds

    found = _find(store, request.id)
    if found is None:
        raise ScoringError(f"no contact, account or opportunity with id {request.id!r} in this "
                           "store")
    kind, rid = found
    as_of = _as_of(store, request.as_of)
    rs = _rules_or_none(request.rules)
    notes: list[str] = []
    if rid != request.id:
        notes.append(f"{request.id} was merged into contact {rid}")
    models: dict[str, dict[str, Any]] = {}
    related: list[dict[str, Any]] = []
    rule_score = None

    def model(name: str) -> Any:
        try:
            return scoring_apply.load(store, name)
        except ModelNotFoundError:
            notes.append(f"no trained {name} model (revloop score train)")
            return None

    if kind == "contact":
        if rs is not None:
            rule_score = contact_score_log(store, rs.path, rid, as_of)
        else:
            notes.append("no rules file (pass --rules) — rule score not shown")
        m = model("contact_fit")
        if m is not None:
            models["contact_fit"] = _model_detail(scoring_apply.score_contacts(
                store, m, None, [rid]))
    elif kind == "opportunity":
        m = model("opportunity_win")
        if m is not None:
            frame = scoring_apply.score_opportunities(store, m, as_of, [rid], open_only=False)
            if not len(frame):
                notes.append(f"deal {rid} was created after {as_of:%Y-%m-%d}: scored at "
                             "creation")
                frame = scoring_apply.score_opportunities(store, m, None, [rid],
                                                          open_only=False)
            models["opportunity_win"] = _model_detail(frame)
    else:
        loaded = {n: m for n in ("account_fit", "engagement", "intent", "in_market")
                  if (m := model(n)) is not None}
        if loaded:
            frame = scoring_apply.score_accounts(
                store, loaded, as_of, rs.stages if rs else StageThresholds(),
                rs.fit_buckets if rs else FitBuckets(), [rid])
            if not len(frame):
                notes.append(f"account {rid} did not exist at {as_of:%Y-%m-%d}")
            for n in loaded:
                if len(frame):
                    models[n] = _model_detail(frame, f"{n}_")
            if len(frame):
                row = frame.iloc[0]
                for col in ("fit_level", "buying_stage", "is_6qa", "has_open_opportunity",
                            "days_since_activity"):
                    if col in frame.columns:
                        value = row[col]
                        models.setdefault("account", {})[col] = value.item() if hasattr(
                            value, "item") else value
        if rs is not None:
            tables = score_rules(store, rs, as_of)
            s = tables.scores.filter(tables.scores.account_id == rid)
            related = [{k: _iso(v) for k, v in r.items() if k in (
                "contact_id", "score", "fit_score", "engagement_score", "is_mql")}
                for r in s.order_by([s.score.desc(), s.contact_id]).limit(10)
                .to_pyarrow().to_pylist()]
    return Explanation(id=rid, kind=kind, as_of=as_of, rule_score=rule_score, models=models,
                       related=related, notes=notes)
