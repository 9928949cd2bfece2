"""Every predictive scoring model by name, with the words users may call them by."""

from __future__ import annotations

from collections.abc import Sequence

from revloop.analytics.scoring.errors import ScoringError

CONTACT_FIT = "contact_fit"
OPPORTUNITY_WIN = "opportunity_win"
#: The four account models; together they give the buying stage and the 6QA flag.
ACCOUNT_MODELS = ("account_fit", "engagement", "intent", "in_market")
ALL_MODELS = (CONTACT_FIT, OPPORTUNITY_WIN, *ACCOUNT_MODELS)

MODEL_ALIASES: dict[str, tuple[str, ...]] = {
    "contact": (CONTACT_FIT,), "contact_fit": (CONTACT_FIT,), "contact-fit": (CONTACT_FIT,),
    "opportunity": (OPPORTUNITY_WIN,), "opportunity_win": (OPPORTUNITY_WIN,),
    "win": (OPPORTUNITY_WIN,), "opportunity-win": (OPPORTUNITY_WIN,),
    "account_fit": ("account_fit",), "account-fit": ("account_fit",), "fit": ("account_fit",),
    "engagement": ("engagement",), "intent": ("intent",), "in_market": ("in_market",),
    "in-market": ("in_market",),
    "accounts": ACCOUNT_MODELS,
    "all": ALL_MODELS,
}


def resolve_models(names: Sequence[str]) -> list[str]:
    """Canonical model names of user words (``contact``, ``accounts``, ``in-market``, …);
    every model when none is given."""
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
    return out or list(ALL_MODELS)


def named_explicitly(names: Sequence[str]) -> bool:
    """Whether the user named models (then a model that cannot run is an error) rather than
    asking for all of them (then it is skipped with the reason)."""
    return bool(names) and not any(str(m).strip().lower() == "all" for m in names)
