"""Why a contact, account or deal scores what it does."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from revloop.analytics.contract import RunContext
from revloop.analytics.scoring import apply as scoring
from revloop.analytics.scoring.catalog import ACCOUNT_MODELS, CONTACT_FIT, OPPORTUNITY_WIN
from revloop.analytics.scoring.errors import ModelNotFoundError, ScoringError
from revloop.analytics.scoring.requests import ExplainRequest
from revloop.analytics.scoring.results import Explanation, ModelExplanation
from revloop.analytics.scoring.rules import RuleSet
from revloop.analytics.scoring.rules_engine import score_rules
from revloop.analytics.scoring.runners.apply import stage_settings
from revloop.analytics.scoring.runners.common import as_of_or_default, plain, rows, rules_or_none
from revloop.analytics.scoring.runners.rules import contact_score_log
from revloop.model import tables
from revloop.store import Store

_ACCOUNT_FACTS = ("fit_level", "buying_stage", "is_6qa", "has_open_opportunity",
                  "days_since_activity")


def find_record(store: Store, record_id: str) -> tuple[str, str] | None:
    """(kind, canonical id) of an id: a contact (merged ids resolved), an account or a deal."""
    present = set(store.list_tables())
    if tables.CONTACTS in present:
        c = store.table(tables.CONTACTS)
        if c.filter(c.contact_id == record_id).count().execute():
            return "contact", record_id
        if tables.INT_CONTACT_MERGES in present:
            m = store.table(tables.INT_CONTACT_MERGES)
            found = m.filter(m.contact_id == record_id).select(
                "canonical_contact_id").to_pyarrow().to_pylist()
            if found:
                return "contact", str(found[0]["canonical_contact_id"])
    for kind, table, key in (("account", tables.ACCOUNTS, "account_id"),
                             ("opportunity", tables.OPPORTUNITIES, "opportunity_id")):
        if table in present:
            t = store.table(table)
            if t.filter(t[key] == record_id).count().execute():
                return kind, record_id
    return None


class _Explainer:
    """Collects the explanation of one record."""

    def __init__(self, store: Store, rid: str, as_of: dt.datetime, rs: RuleSet | None) -> None:
        self.store, self.rid, self.as_of, self.rs = store, rid, as_of, rs
        self.notes: list[str] = []
        self.models: dict[str, ModelExplanation] = {}

    def load(self, name: str) -> scoring.LoadedModel | None:
        try:
            return scoring.load(self.store, name)
        except ModelNotFoundError:
            self.notes.append(f"no trained {name} model (revloop score train)")
            return None

    def contact(self) -> dict[str, Any] | None:
        rule_score = None
        if self.rs is not None:
            rule_score = contact_score_log(self.store, self.rs, self.rid, self.as_of)
        else:
            self.notes.append("no rules file (pass --rules) — rule score not shown")
        m = self.load(CONTACT_FIT)
        if m is not None:
            frame = scoring.score_contacts(self.store, m, None, [self.rid])
            self._add(CONTACT_FIT, frame)
        return rule_score

    def opportunity(self) -> None:
        m = self.load(OPPORTUNITY_WIN)
        if m is None:
            return
        frame = scoring.score_opportunities(self.store, m, self.as_of, [self.rid],
                                            open_only=False)
        if not len(frame):
            self.notes.append(f"deal {self.rid} was created after {self.as_of:%Y-%m-%d}: "
                              "scored at creation")
            frame = scoring.score_opportunities(self.store, m, None, [self.rid],
                                                open_only=False)
        self._add(OPPORTUNITY_WIN, frame)

    def account(self) -> dict[str, Any] | None:
        loaded = {n: m for n in ACCOUNT_MODELS if (m := self.load(n)) is not None}
        if not loaded:
            return None
        stages, buckets = stage_settings(self.rs)
        frame = scoring.score_accounts(self.store, loaded, self.as_of, stages, buckets,
                                       [self.rid])
        if not len(frame):
            self.notes.append(f"account {self.rid} did not exist at {self.as_of:%Y-%m-%d}")
            return None
        for n in loaded:
            self._add(n, frame, f"{n}_")
        row = frame.iloc[0]
        return {c: plain(row[c]) for c in _ACCOUNT_FACTS if c in frame.columns}

    def related(self) -> list[dict[str, Any]]:
        """The account's contacts by rule score (when a rules file is given)."""
        if self.rs is None:
            return []
        s = score_rules(self.store, self.rs, self.as_of).scores
        s = s.filter(s.account_id == self.rid).select(
            "contact_id", "score", "fit_score", "engagement_score", "is_mql")
        return rows(s.order_by([s.score.desc(), s.contact_id]).limit(10))

    def _add(self, name: str, frame: Any, prefix: str = "") -> None:
        if frame is None or not len(frame):
            return
        row = frame.iloc[0]
        reasons = row[f"{prefix}reasons"]
        self.models[name] = ModelExplanation(
            model=str(row[f"{prefix}model" if prefix else "model_id"]),
            probability=float(row[f"{prefix}probability"]),
            score=float(row[f"{prefix}score"]), bucket=str(row[f"{prefix}bucket"]),
            reasons=json.loads(reasons) if isinstance(reasons, str) else [])


def run(store: Store, request: ExplainRequest,
        context: RunContext | None = None) -> Explanation:
    """A record's rule score log and every model's score with its top reasons."""
    found = find_record(store, request.id)
    if found is None:
        raise ScoringError(f"no contact, account or opportunity with id {request.id!r} in this "
                           "store")
    kind, rid = found
    ex = _Explainer(store, rid, as_of_or_default(store, request.as_of),
                    rules_or_none(request.rules))
    if rid != request.id:
        ex.notes.append(f"{request.id} was merged into contact {rid}")
    rule_score = account = None
    related: list[dict[str, Any]] = []
    if kind == "contact":
        rule_score = ex.contact()
    elif kind == "opportunity":
        ex.opportunity()
    else:
        account = ex.account()
        related = ex.related()
    return Explanation(id=rid, kind=kind, as_of=ex.as_of, rule_score=rule_score,
                       models=ex.models, account=account, related=related, notes=ex.notes)
