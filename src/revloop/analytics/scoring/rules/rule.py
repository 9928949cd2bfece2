"""One rule of the fit or engagement section, and its conditions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from revloop.analytics.scoring.rules.fields import resolve_field, shorthand
from revloop.analytics.scoring.rules.model import (
    DEFAULT_GROUP,
    ENGAGEMENT_SHORTHANDS,
    OPERATORS,
    Condition,
    Rule,
)
from revloop.analytics.scoring.rules.operands import INVALID, check_operand
from revloop.analytics.scoring.rules.yaml_lines import Problems, line_of, number

_RULE_KEYS = {"name", "description", "points", "group", "enabled", "all", "any", "field",
              "case_sensitive"}
_ENGAGEMENT_KEYS = {"once", "repeatable", "cap", "half_life_days", "decay",
                    *ENGAGEMENT_SHORTHANDS}


def parse_rule(item: Any, kind: str, where: str, default_half_life: float | None,
               problems: Problems, line: int) -> Rule | None:
    """The rule ``item``, or None when it is disabled or its name or points are unusable.

    Every problem found is recorded in ``problems``."""
    rline = line_of(item, line)
    if not isinstance(item, dict):
        problems.add(rline, where, "expected a mapping with name, points and conditions")
        return None
    name = item.get("name")
    if not name or not isinstance(name, str):
        problems.add(rline, where, "missing name; expected a short unique name")
        return None
    label = f"rule {name!r} ({where})"
    _check_rule_keys(item, kind, label, problems, rline)
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.add(rline, label, f"enabled: {enabled!r} is not true/false")
    points = _points(item, label, problems, rline)
    conditions = _conditions(item, kind, label, bool(item.get("case_sensitive", False)),
                             problems, rline)
    cap = number(item.get("cap"), problems, rline, f"{label}: cap", allow_none=True,
                 positive=True)
    once, half_life = (_timing(item, default_half_life, label, problems, rline)
                       if kind == "engagement" else (True, None))
    attempted = any(k in item for k in ("field", "all", "any", *ENGAGEMENT_SHORTHANDS))
    if not conditions and kind == "fit" and not attempted:
        problems.add(rline, label, "no condition; expected field plus an operator "
                     f"({', '.join(OPERATORS)}), or all:/any: lists of them")
    if enabled is False or points is None:
        return None
    return Rule(name=name, kind=kind, points=points,
                group=str(item.get("group") or DEFAULT_GROUP), conditions=tuple(conditions),
                match_any="any" in item, once=once, cap=cap, half_life_days=half_life,
                description=str(item.get("description") or ""), line=rline)


def _check_rule_keys(item: Mapping[str, Any], kind: str, label: str, problems: Problems,
                     rline: int) -> None:
    allowed = _RULE_KEYS | set(OPERATORS) | (_ENGAGEMENT_KEYS if kind == "engagement" else
                                             set())
    for key in item:
        if key not in allowed:
            hint = ""
            if kind == "fit" and key in _ENGAGEMENT_KEYS:
                hint = " (fit rules count once and do not decay; put it under engagement)"
            problems.add(rline, label, f"unknown key {key!r}{hint}; expected one of "
                         f"{', '.join(sorted(allowed))}")


def _points(item: Mapping[str, Any], label: str, problems: Problems, rline: int
            ) -> float | None:
    """The rule's points; None when missing, not a number or 0 (all recorded)."""
    points = number(item.get("points"), problems, rline, f"{label}: points")
    if points is not None and points == 0:
        problems.add(rline, label, "points: 0 adds nothing; expected a non-zero number "
                     "(negative for penalties)")
        return None
    return points


def _timing(item: Mapping[str, Any], default_half_life: float | None, label: str,
            problems: Problems, rline: int) -> tuple[bool, float | None]:
    """``(once, half_life_days)`` of an engagement rule."""
    once = bool(item.get("once", not item.get("repeatable", True)))
    if "once" in item and "repeatable" in item and item["once"] == item["repeatable"]:
        problems.add(rline, label, "once and repeatable contradict each other; give one")
    decay = item.get("decay", True)
    if decay is False:
        if "half_life_days" in item:
            problems.add(rline, label, "half_life_days with decay: false; give one")
        return once, None
    if decay is not True:
        problems.add(rline, label, f"decay: {decay!r}; expected true or false")
        return once, None
    return once, number(item.get("half_life_days", default_half_life), problems, rline,
                        f"{label}: half_life_days", allow_none=True, positive=True)


# --------------------------------------------------------------------------- conditions

def _conditions(item: Mapping[str, Any], kind: str, label: str, case_sensitive: bool,
                problems: Problems, line: int) -> list[Condition]:
    """A rule's conditions: shorthands, then its own field, then all:/any: lists."""
    if "all" in item and "any" in item:
        problems.add(line, label, "all and any together; nest them in two rules instead")
    out: list[Condition] = []
    if kind == "engagement":
        found = (shorthand(key, item[key], label, case_sensitive, problems, line)
                 for key in ENGAGEMENT_SHORTHANDS if key in item)
        out += [c for c in found if c is not None]
    out += _field_condition(item, kind, label, case_sensitive, problems, line)
    for key in ("all", "any"):
        if key in item:
            out += _condition_list(key, item[key], kind, label, case_sensitive, problems,
                                   line, after=bool(out))
    return out


def _field_condition(item: Mapping[str, Any], kind: str, label: str, case_sensitive: bool,
                     problems: Problems, line: int) -> list[Condition]:
    """The condition written on the rule itself (``field: title, contains: vp``)."""
    if "field" in item:
        spec = {k: v for k, v in item.items() if k in OPERATORS or k == "field"}
        cond = _condition(spec, kind, label, case_sensitive, problems, line)
        return [] if cond is None else [cond]
    if any(k in item for k in OPERATORS):
        problems.add(line, label, "an operator without field; expected field: <name>")
    return []


def _condition_list(key: str, items: Any, kind: str, label: str, case_sensitive: bool,
                    problems: Problems, line: int, *, after: bool) -> list[Condition]:
    """The conditions of an ``all:`` or ``any:`` list (``after``: conditions came before)."""
    if not isinstance(items, list) or not items:
        problems.add(line, label, f"{key}: expected a non-empty list of conditions "
                     "like {field: industry, in: [software]}")
        return []
    if kind == "engagement" and key == "any" and after:
        problems.add(line, label, "any: cannot be combined with touch_type/channel/"
                     "campaign/content/url shorthands (they are ANDed); use all:")
    found = (_condition(sub, kind, label, case_sensitive, problems, line_of(sub, line))
             for sub in items)
    return [c for c in found if c is not None]


def _condition(spec: Any, kind: str, label: str, case_sensitive: bool, problems: Problems,
               line: int) -> Condition | None:
    """One ``{field: …, <operator>: …}`` condition, or None after recording its problems."""
    if not isinstance(spec, dict) or "field" not in spec:
        problems.add(line, label, f"condition {spec!r}; expected a mapping like "
                     "{field: industry, in: [software]}")
        return None
    fname = spec["field"]
    if not isinstance(fname, str):
        problems.add(line, label, f"field: {fname!r}; expected a field name")
        return None
    op = _operator(spec, fname, label, problems, line)
    if op is None:
        return None
    resolved = resolve_field(fname, kind)
    if isinstance(resolved, str):
        problems.add(line, label, resolved)
        return None
    scope, column, custom, ctype, technology = resolved
    value = check_operand(op, spec[op], fname, ctype, custom, technology, label, problems,
                          line)
    if value is INVALID:
        return None
    return Condition(field=fname, scope=scope, column=column, custom=custom, kind=ctype,
                     op=op, value=value,
                     case_sensitive=bool(spec.get("case_sensitive", case_sensitive)),
                     technology=technology)


def _operator(spec: Mapping[str, Any], fname: str, label: str, problems: Problems,
              line: int) -> str | None:
    """The one operator of a condition (unknown keys are recorded too)."""
    for key in spec:
        if key not in OPERATORS and key not in ("field", "case_sensitive"):
            problems.add(line, label, f"field {fname!r}: unknown key {key!r}; expected an "
                         f"operator ({', '.join(OPERATORS)})")
    ops = [k for k in spec if k in OPERATORS]
    if len(ops) != 1:
        found = "no operator" if not ops else "operators " + ", ".join(ops)
        problems.add(line, label, f"field {fname!r}: {found}; expected exactly one of "
                     f"{', '.join(OPERATORS)}")
        return None
    return ops[0]
