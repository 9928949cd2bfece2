"""Rule-based lead scores: validate a rules file, score contacts, one contact's score log."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from revloop.analytics.contract import RunContext
from revloop.analytics.scoring.errors import ScoringError
from revloop.analytics.scoring.requests import CheckRulesRequest, RulesRequest
from revloop.analytics.scoring.results import RuleFiring, RuleInfo, RulesResult, RulesSummary
from revloop.analytics.scoring.rules import RuleSet, load_rules
from revloop.analytics.scoring.rules_engine import score_rules
from revloop.analytics.scoring.runners.common import as_of_or_default, plain, rows
from revloop.model import tables
from revloop.store import Store
from revloop.store.queries import flag_as_int

LEAD_SCORES = "lead_scores"
LEAD_SCORE_LOG = "lead_score_log"
LEAD_SCORE_GROUPS = "lead_score_groups"


def summary(rs: RuleSet) -> RulesSummary:
    """What a validated rules file says."""
    return RulesSummary(
        path=rs.path, name=rs.name, content_hash=rs.content_hash,
        mql_threshold=rs.mql_threshold, groups=[asdict(g) for g in rs.groups.values()],
        rules=[RuleInfo(
            name=r.name, kind=r.kind, group=r.group, points=r.points, once=r.once, cap=r.cap,
            half_life_days=r.half_life_days, conditions=[c.describe() for c in r.conditions],
            match="any" if r.match_any else "all", line=r.line) for r in rs.rules],
    )


def check(_store: Store | None, request: CheckRulesRequest,
          context: RunContext | None = None) -> RulesSummary:
    """Validate a rules file (``RulesFileError`` lists every problem)."""
    return summary(load_rules(request.rules))


def run(store: Store, request: RulesRequest, context: RunContext | None = None) -> RulesResult:
    """Compute rule scores as of a date; store them unless asked not to."""
    rs = load_rules(request.rules)
    as_of = as_of_or_default(store, request.as_of)
    if tables.CONTACTS not in store.list_tables():
        raise ScoringError("the store has no contacts mart: run `revloop build` first")
    scored = score_rules(store, rs, as_of, request.contact_ids)
    log, scores = scored.log, scored.scores
    stored: list[str] = []
    if request.persist and request.contact_ids is None:
        store.replace_table(LEAD_SCORE_LOG, scored.log)
        store.replace_table(LEAD_SCORES, scored.scores)
        store.replace_table(LEAD_SCORE_GROUPS, scored.groups)
        stored = [LEAD_SCORES, LEAD_SCORE_LOG, LEAD_SCORE_GROUPS]
        log, scores = store.table(LEAD_SCORE_LOG), store.table(LEAD_SCORES)
    totals: dict[str, Any] = scores.aggregate(
        n=scores.count(), mqls=flag_as_int(scores.is_mql).sum()).to_pyarrow().to_pylist()[0]
    by_rule = _by_rule(rs, log)
    top = rows(scores.order_by([scores.score.desc(), scores.contact_id]).limit(request.top))
    return RulesResult(
        rules_file=rs.path, rules_name=rs.name, rules_hash=rs.content_hash,
        mql_threshold=rs.mql_threshold, as_of=as_of, contacts=int(totals["n"] or 0),
        mqls=int(totals["mqls"] or 0), events=sum(r.fired for r in by_rule), by_rule=by_rule,
        top=top, stored=stored,
    )


def _by_rule(rs: RuleSet, log: Any) -> list[RuleFiring]:
    per_rule = log.group_by(["rule", "kind", "group_name"]).aggregate(
        fired=log.count(), contacts=log.contact_id.nunique(),
        effective_points=log.effective_points.sum(),
    ).to_pyarrow().to_pylist()
    stats = {r["rule"]: r for r in per_rule}
    out = []
    for rule in rs.rules:
        s = stats.get(rule.name, {})
        out.append(RuleFiring(
            rule=rule.name, kind=rule.kind, group=rule.group, points=rule.points,
            fired=int(s.get("fired") or 0), contacts=int(s.get("contacts") or 0),
            effective_points=round(float(s.get("effective_points") or 0.0), 4)))
    return out


def contact_score_log(store: Store, rs: RuleSet, contact_id: str,
                      as_of: dt.datetime) -> dict[str, Any] | None:
    """One contact's rule score, group scores and every rule that fired, oldest first."""
    scored = score_rules(store, rs, as_of, [contact_id])
    scores = rows(scored.scores)
    if not scores:
        return None
    log = scored.log.order_by(["occurred_at", "rule", "touchpoint_id"])
    return {
        "rules_file": rs.path, "as_of": as_of.isoformat(), "mql_threshold": rs.mql_threshold,
        **{k: plain(v) for k, v in scores[0].items() if k != "as_of"},
        "groups": rows(scored.groups.order_by("group_name"), drop=("as_of",)),
        "log": rows(log, drop=("as_of",)),
    }
