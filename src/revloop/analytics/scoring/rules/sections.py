"""The top-level sections besides the rules: decay, groups, stages, fit_buckets, models."""

from __future__ import annotations

from typing import Any

from revloop.analytics.scoring.rules.model import (
    MODEL_NAMES,
    FitBuckets,
    Group,
    ModelOptions,
    StageThresholds,
)
from revloop.analytics.scoring.rules.yaml_lines import Problems, line_of, number


def decay_section(value: Any, problems: Problems, line: int) -> float | None:
    """The default half-life of engagement rules in days (None: no decay)."""
    if value is None or value is False:
        return None
    if not isinstance(value, dict):
        problems.add(line, "decay", "expected a mapping like {half_life_days: 30}")
        return None
    for key in value:
        if key != "half_life_days":
            problems.add(line_of(value, line), "decay", f"unknown key {key!r}; expected "
                         "half_life_days")
    return number(value.get("half_life_days"), problems, line_of(value, line),
                  "decay.half_life_days", positive=True)


def groups_section(value: Any, problems: Problems, line: int) -> dict[str, Group]:
    """The declared score groups by name (empty when the file declares none)."""
    groups: dict[str, Group] = {}
    if value is None:
        return groups
    if not isinstance(value, dict):
        problems.add(line, "groups", "expected a mapping of group name → {cap, floor, "
                     "mql_threshold, description}")
        return groups
    for name, spec in value.items():
        gline = line_of(spec, line_of(value, line))
        where = f"group {name!r}"
        spec = spec or {}
        if not isinstance(spec, dict):
            problems.add(gline, where, "expected a mapping with cap, floor, mql_threshold or "
                         "description")
            continue
        for key in spec:
            if key not in ("cap", "floor", "mql_threshold", "description"):
                problems.add(gline, where, f"unknown key {key!r}; expected cap, floor, "
                             "mql_threshold or description")
        cap = number(spec.get("cap"), problems, gline, f"{where}.cap", allow_none=True)
        floor = number(spec.get("floor"), problems, gline, f"{where}.floor", allow_none=True)
        if cap is not None and floor is not None and floor > cap:
            problems.add(gline, where, f"floor {floor:g} is above cap {cap:g}")
        groups[str(name)] = Group(
            str(name), cap=cap, floor=floor,
            mql_threshold=number(spec.get("mql_threshold"), problems, gline,
                                 f"{where}.mql_threshold", allow_none=True),
            description=str(spec.get("description") or ""),
        )
    return groups


def stages_section(value: Any, problems: Problems, line: int) -> StageThresholds:
    """The buying-stage cut points (defaults for what the file leaves out)."""
    if value is None:
        return StageThresholds()
    if not isinstance(value, dict):
        problems.add(line, "stages", "expected {consideration, decision, purchase, "
                     "activity_days}")
        return StageThresholds()
    sline = line_of(value, line)
    base = StageThresholds()
    vals: dict[str, float] = {}
    for key in value:
        if key not in ("consideration", "decision", "purchase", "activity_days"):
            problems.add(sline, "stages", f"unknown key {key!r}; expected consideration, "
                         "decision, purchase or activity_days")
            continue
        n = number(value[key], problems, sline, f"stages.{key}", positive=True)
        if n is not None:
            vals[key] = n
    out = StageThresholds(
        consideration=vals.get("consideration", base.consideration),
        decision=vals.get("decision", base.decision),
        purchase=vals.get("purchase", base.purchase),
        activity_days=int(vals.get("activity_days", base.activity_days)),
    )
    if not out.consideration <= out.decision <= out.purchase <= 100:
        problems.add(sline, "stages", "expected consideration ≤ decision ≤ purchase ≤ 100")
    return out


def fit_buckets_section(value: Any, problems: Problems, line: int) -> FitBuckets:
    """The account fit bucket cut points (defaults for what the file leaves out)."""
    if value is None:
        return FitBuckets()
    if not isinstance(value, dict):
        problems.add(line, "fit_buckets", "expected {strong: 70, moderate: 40}")
        return FitBuckets()
    bline = line_of(value, line)
    for key in value:
        if key not in ("strong", "moderate"):
            problems.add(bline, "fit_buckets", f"unknown key {key!r}; expected strong or "
                         "moderate")
    strong = number(value.get("strong", 70.0), problems, bline, "fit_buckets.strong")
    moderate = number(value.get("moderate", 40.0), problems, bline, "fit_buckets.moderate")
    if strong is None or moderate is None:
        return FitBuckets()
    if not 0 <= moderate <= strong <= 100:
        problems.add(bline, "fit_buckets", "expected 0 ≤ moderate ≤ strong ≤ 100")
    return FitBuckets(strong=strong, moderate=moderate)


def models_section(value: Any, problems: Problems, line: int) -> dict[str, ModelOptions]:
    """Options of the models the file mentions, by model name."""
    out: dict[str, ModelOptions] = {}
    if value is None:
        return out
    if not isinstance(value, dict):
        problems.add(line, "models", f"expected a mapping of {', '.join(MODEL_NAMES)}")
        return out
    for name, spec in value.items():
        mline = line_of(spec, line_of(value, line))
        if name not in MODEL_NAMES:
            problems.add(mline, "models", f"unknown model {name!r}; expected one of "
                         f"{', '.join(MODEL_NAMES)}")
            continue
        options = _model_options(name, spec or {}, problems, mline)
        if options is not None:
            out[name] = options
    return out


def _model_options(name: str, spec: Any, problems: Problems, mline: int) -> ModelOptions | None:
    if not isinstance(spec, dict):
        problems.add(mline, f"models.{name}", "expected a mapping")
        return None
    for key in spec:
        if key not in ("exclude", "target_stages", "horizon_days", "label"):
            problems.add(mline, f"models.{name}", f"unknown key {key!r}; expected "
                         "exclude, target_stages, horizon_days or label")
    exclude = spec.get("exclude") or []
    stages = spec.get("target_stages") or []
    for key, items in (("exclude", exclude), ("target_stages", stages)):
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            problems.add(mline, f"models.{name}.{key}", "expected a list of names")
    horizon = number(spec.get("horizon_days"), problems, mline,
                     f"models.{name}.horizon_days", allow_none=True, positive=True)
    label = spec.get("label")
    if label is not None and label not in ("opened", "won"):
        problems.add(mline, f"models.{name}.label", f"{label!r}; expected opened or won")
    return ModelOptions(
        # something other than a list was reported above and names nothing
        exclude=tuple(str(v) for v in exclude) if isinstance(exclude, list) else (),
        target_stages=tuple(str(v) for v in stages) if isinstance(stages, list) else (),
        horizon_days=int(horizon) if horizon is not None else None,
        label=label if label in ("opened", "won") else None,
    )
