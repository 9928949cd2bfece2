"""Every attribution model by name: aliases, groups and the factory that configures each.

``custom`` needs weights and ``shapley_ordered`` repeats Shapley's channel credits (it adds
the positions), so both run only when asked for by name; ``all`` is every other model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from revloop.analytics.attribution.credits import AttributionModel
from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.heuristics import (
    FirstTouch,
    FullPath,
    LastNonDirect,
    LastTouch,
    Linear,
    MilestoneWeights,
    TimeDecay,
    UShaped,
    WShaped,
    parse_weights,
)
from revloop.analytics.attribution.markov import Markov
from revloop.analytics.attribution.shapley import Shapley

__all__ = ["DATA_DRIVEN", "HEURISTICS", "MODEL_NAMES", "ModelSettings", "build_models",
           "model_names", "parse_weights"]

HEURISTICS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay",
              "u_shaped", "w_shaped", "full_path", "custom")
DATA_DRIVEN = ("markov", "shapley", "shapley_ordered")
MODEL_NAMES = HEURISTICS + DATA_DRIVEN
_ALIASES = {
    "first": "first_touch", "last": "last_touch", "last_click": "last_touch",
    "first_click": "first_touch", "position_based": "u_shaped", "u": "u_shaped",
    "w": "w_shaped", "time": "time_decay", "shapley_unordered": "shapley",
}
_GROUPS = {
    "all": (*HEURISTICS[:8], "markov", "shapley"),
    "heuristics": HEURISTICS[:8],
    "data_driven": ("markov", "shapley"),
}


def model_names(requested: Sequence[str]) -> list[str]:
    """Canonical model names from user input (aliases, ``all``, comma lists, ``markov_2``)."""
    names: list[str] = []
    for item in requested:
        for raw in filter(None, (x.strip().lower().replace("-", "_") for x in item.split(","))):
            for name in _GROUPS.get(raw, (_ALIASES.get(raw, raw),)):
                base = name.rsplit("_", 1)[0] if name.startswith("markov_") else name
                if base not in MODEL_NAMES:
                    raise AttributionError(
                        f"unknown model {raw!r}; choose from {', '.join(MODEL_NAMES)}, "
                        "markov_2 … markov_4, all, heuristics, data_driven", code="bad_model")
                if name not in names:
                    names.append(name)
    if not names:
        raise AttributionError("no model requested", code="bad_model")
    return names


@dataclass(frozen=True)
class ModelSettings:
    """The parameters the model factories read."""

    markov_order: int = 1
    half_life: float = 7.0
    half_life_unit: Literal["days", "touches"] = "days"
    custom_weights: str | None = None
    direct_channels: tuple[str, ...] = ("direct",)


def _markov(name: str, s: ModelSettings) -> AttributionModel:
    return Markov(order=int(name.split("_")[1]) if "_" in name else s.markov_order)


def _custom(_name: str, s: ModelSettings) -> AttributionModel:
    if not s.custom_weights:
        raise AttributionError("the custom model needs --weights", code="bad_weights")
    weights, rest = parse_weights(s.custom_weights)
    return MilestoneWeights(weights, rest=rest, name="custom")


_FACTORIES: dict[str, Callable[[str, ModelSettings], AttributionModel]] = {
    "markov": _markov,
    "first_touch": lambda _n, _s: FirstTouch(),
    "last_touch": lambda _n, _s: LastTouch(),
    "last_non_direct": lambda _n, s: LastNonDirect(s.direct_channels),
    "linear": lambda _n, _s: Linear(),
    "time_decay": lambda _n, s: TimeDecay(s.half_life, s.half_life_unit),
    "u_shaped": lambda _n, _s: UShaped(),
    "w_shaped": lambda _n, _s: WShaped(),
    "full_path": lambda _n, _s: FullPath(),
    "custom": _custom,
    "shapley": lambda _n, _s: Shapley(),
    "shapley_ordered": lambda _n, _s: Shapley(ordered=True),
}


def build_models(names: Sequence[str], settings: ModelSettings) -> list[AttributionModel]:
    """The estimators ``names`` (canonical, see :func:`model_names`), configured."""
    return [_FACTORIES["markov" if n.startswith("markov") else n](n, settings) for n in names]
