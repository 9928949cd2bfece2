"""Train the predictive models and store a new version of each, with its model card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from revloop.analytics.contract import RunContext
from revloop.analytics.scoring.catalog import (
    ACCOUNT_MODELS,
    CONTACT_FIT,
    OPPORTUNITY_WIN,
    named_explicitly,
    resolve_models,
)
from revloop.analytics.scoring.errors import ScoringError
from revloop.analytics.scoring.model_store import save_model
from revloop.analytics.scoring.requests import TrainRequest
from revloop.analytics.scoring.results import TrainResult
from revloop.analytics.scoring.rules import RuleSet
from revloop.analytics.scoring.runners.common import (
    account_options,
    contact_options,
    opportunity_options,
    rules_or_none,
)
from revloop.analytics.scoring.training import (
    TrainedModel,
    train_account_models,
    train_contact_fit,
    train_opportunity_win,
)
from revloop.model import tables
from revloop.store import Store


def why_not_trainable(store: Store) -> dict[str, str | None]:
    """Why each model cannot be trained on this store (None: it can)."""
    accounts, opps = store.count(tables.ACCOUNTS), store.count(tables.OPPORTUNITIES)
    why: dict[str, str | None] = {
        CONTACT_FIT: None if store.count(tables.CONTACTS) else "no contacts",
        OPPORTUNITY_WIN: None if opps else "no opportunities",
    }
    for name in ACCOUNT_MODELS:
        why[name] = None if accounts and opps else "needs accounts and opportunities"
    if not store.count(tables.TOUCHPOINTS):
        why["engagement"] = why["engagement"] or "no touchpoints"
    if not store.count(tables.INTENT_SIGNALS):
        why["intent"] = why["intent"] or "no intent signals"
    return why


def _trainers(store: Store, request: TrainRequest, rs: RuleSet | None,
              runnable: list[str]) -> list[tuple[str, Callable[[], list[TrainedModel]]]]:
    """(label, train function) per model family that runs."""
    out: list[tuple[str, Callable[[], list[TrainedModel]]]] = []
    if CONTACT_FIT in runnable:
        opts = contact_options(rs, request.target_stages, request.exclude)
        out.append((CONTACT_FIT, lambda: [train_contact_fit(store, opts)]))
    if OPPORTUNITY_WIN in runnable:
        o_opts = opportunity_options(rs, request.cutoff, request.exclude)
        out.append((OPPORTUNITY_WIN, lambda: [train_opportunity_win(store, o_opts)]))
    accounts = [n for n in runnable if n in ACCOUNT_MODELS]
    if accounts:
        a_opts = account_options(rs, request.horizon_days, request.exclude)
        out.append((",".join(accounts), lambda: list(train_account_models(
            store, request.cutoff, a_opts, accounts).values())))
    return out


def run(store: Store, request: TrainRequest, context: RunContext | None = None) -> TrainResult:
    """Train the requested models; store each as a new version with its model card.

    Models named explicitly must train (an error says why not); with ``all``, a model the
    store cannot support is skipped with the reason.
    """
    ctx = context or RunContext()
    explicit = named_explicitly(request.models)
    why = why_not_trainable(store)
    skipped: dict[str, str] = {}
    runnable = []
    for name in resolve_models(request.models):
        reason = why[name]
        if reason is None:
            runnable.append(name)
        elif explicit:
            raise ScoringError(f"cannot train {name}: {reason} in this store")
        else:
            skipped[name] = reason
    fitted: list[TrainedModel] = []
    for label, train in _trainers(store, request, rules_or_none(request.rules), runnable):
        ctx.progress(label)
        try:
            fitted += train()
        except ScoringError as exc:
            if explicit:
                raise
            skipped[label] = exc.message
    return TrainResult(trained=[_stored_card(store, m, request.persist) for m in fitted],
                       skipped=skipped)


def _stored_card(store: Store, model: TrainedModel, persist: bool) -> dict[str, Any]:
    if not persist:
        return model.card
    return save_model(store, model.name, model.card, model.payload()).card
