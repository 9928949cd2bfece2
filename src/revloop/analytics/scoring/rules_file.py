"""The rules file (``scoring.yaml``): parsing and validation into a :class:`RuleSet`.

Every problem is reported with the file, the line, the rule, the field and what was expected,
all at once (a file with three mistakes gives three lines, not three runs). The format is
documented in ``docs/scoring.md``; ``examples/scoring.yaml`` is a commented example.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from revloop.analytics.scoring.errors import RulesFileError
from revloop.schema import ENTITY_BY_NAME, ColumnType

DEFAULT_GROUP = "general"

# Operators of a condition, with the kind of value each takes.
STRING_OPS = ("contains", "starts_with", "ends_with", "matches")
NUMERIC_OPS = ("gt", "gte", "lt", "lte", "between")
OPERATORS = ("equals", "not_equals", "in", "not_in", *STRING_OPS, *NUMERIC_OPS, "exists")

# What a field name can point at. Scope → (entity whose canonical columns it has, JSON bag).
_SCOPES: dict[str, tuple[str, str | None]] = {
    "contact": ("contacts", "custom"),
    "account": ("accounts", "custom"),
    "touch": ("touchpoints", "properties"),
    "campaign": ("campaigns", "custom"),
    "content": ("content", "custom"),
}
# Derived fields: name → (scope, logical type)
_DERIVED = {("contact", "email_domain"): ColumnType.STRING}
# Set-valued account fields (one account, many technologies).
TECHNOLOGY_FIELDS = {"technology": "technology", "technology_category": "category"}
# Outcome and bookkeeping columns that rules must not read.
_NOT_RULE_FIELDS = {"custom", "properties", "source"}

# Engagement shorthands: key → (field it tests, how)
ENGAGEMENT_SHORTHANDS = ("touch_type", "channel", "campaign", "content", "url")


@dataclass(frozen=True)
class Condition:
    """One test on one field: ``account.industry in [software, saas]``."""

    field: str  # as written in the file
    scope: str  # contact | account | touch | campaign | content
    column: str  # canonical column, derived field, technology field, or the custom key
    custom: bool  # ``column`` is a key of the scope's JSON bag
    kind: ColumnType  # logical type of the field (custom keys: STRING, read as text)
    op: str
    value: Any
    case_sensitive: bool = False
    technology: bool = False  # a set-valued account field (any technology matches)
    alternatives: tuple[str, ...] = ()  # shorthands matching several columns (campaign: id/name)

    def describe(self) -> str:
        """The condition as a reader writes it."""
        def show(v: Any) -> str:
            if isinstance(v, float):
                return f"{v:g}"
            if isinstance(v, dt.datetime):
                return v.isoformat()
            return str(v).lower() if isinstance(v, bool) else str(v)

        value = self.value
        text = ("[" + ", ".join(show(v) for v in value) + "]"
                if isinstance(value, list | tuple) else show(value))
        return f"{self.field} {self.op} {text}"


@dataclass(frozen=True)
class Rule:
    """A scoring rule: conditions, points, how often it counts and how it fades."""

    name: str
    kind: str  # "fit" (what the person/account is) or "engagement" (what they do)
    points: float
    group: str
    conditions: tuple[Condition, ...]
    match_any: bool = False  # conditions joined with OR instead of AND
    once: bool = True  # fit rules always count once
    cap: float | None = None  # the rule adds at most +cap (or at least −cap when negative)
    half_life_days: float | None = None  # None: no decay
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class Group:
    """A score group (e.g. one product line): its own total, cap, floor and MQL threshold."""

    name: str
    cap: float | None = None
    floor: float | None = None
    mql_threshold: float | None = None
    description: str = ""


@dataclass(frozen=True)
class StageThresholds:
    """Cut points of the buying stages on the in-market probability, in percent (the
    calibrated chance of opening an opportunity within the horizon); see docs/scoring.md."""

    consideration: float = 5.0
    decision: float = 20.0
    purchase: float = 50.0
    activity_days: int = 90  # no touch and no intent in this many days → Target


@dataclass(frozen=True)
class FitBuckets:
    """Account fit score (0–100) cut points of strong and moderate fit."""

    strong: float = 70.0
    moderate: float = 40.0


@dataclass(frozen=True)
class ModelOptions:
    """Per-model options of the ``models:`` section."""

    exclude: tuple[str, ...] = ()
    target_stages: tuple[str, ...] = ()
    horizon_days: int | None = None
    label: str | None = None  # account_fit: opened | won


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file."""

    path: str
    name: str
    mql_threshold: float | None
    groups: dict[str, Group]
    rules: tuple[Rule, ...]
    content_hash: str
    stages: StageThresholds = field(default_factory=StageThresholds)
    fit_buckets: FitBuckets = field(default_factory=FitBuckets)
    models: dict[str, ModelOptions] = field(default_factory=dict)

    @property
    def fit_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind == "fit")

    @property
    def engagement_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind == "engagement")

    def model_options(self, name: str) -> ModelOptions:
        """Options of model ``name`` (defaults when the file does not mention it)."""
        return self.models.get(name, ModelOptions())


MODEL_NAMES = ("contact_fit", "opportunity_win", "account_fit", "engagement", "intent",
               "in_market")


# --------------------------------------------------------------------------- YAML with lines

class _Map(dict[str, Any]):
    """A mapping that remembers the line it started on."""

    line = 0


class _Seq(list[Any]):
    """A sequence that remembers the line it started on."""

    line = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    out = _Map({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    out.line = node.start_mark.line + 1
    return out


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_sequence(node, deep=True))
    out.line = node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _line(obj: Any, fallback: int) -> int:
    return int(getattr(obj, "line", 0) or fallback)


# --------------------------------------------------------------------------- parsing

class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, line: int, where: str, message: str) -> None:
        self.items.append(f"line {line}: {where}{': ' if where else ''}{message}")


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rules file; :class:`RulesFileError` lists every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesFileError(str(p), ["file not found; pass --rules PATH (see "
                                      "examples/scoring.yaml)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesFileError(str(p), [f"cannot be read ({exc})"]) from None
    return parse_rules(text, str(p))


def parse_rules(text: str, path: str = "scoring.yaml") -> RuleSet:
    """Validate rules given as YAML text (``path`` names it in messages)."""
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulesFileError(path, [f"{where}not valid YAML ({problem})"]) from None
    if not isinstance(doc, dict):
        raise RulesFileError(path, ["expected a mapping with mql_threshold, groups, fit and "
                                    "engagement sections at the top level"])
    problems = _Problems()
    known_top = {"version", "name", "description", "mql_threshold", "decay", "groups", "fit",
                 "engagement", "stages", "fit_buckets", "models"}
    for key in doc:
        if key not in known_top:
            problems.add(_line(doc, 1), "", f"unknown section {key!r}; expected one of "
                         f"{', '.join(sorted(known_top))}")
    version = doc.get("version", 1)
    if version != 1:
        problems.add(_line(doc, 1), "version", f"{version!r} is not supported; expected 1")
    mql = _number(doc.get("mql_threshold"), problems, _line(doc, 1), "mql_threshold",
                  allow_none=True)
    default_half_life = _decay_section(doc.get("decay"), problems, _line(doc, 1))
    groups = _groups_section(doc.get("groups"), problems, _line(doc, 1))
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for section, kind in (("fit", "fit"), ("engagement", "engagement")):
        items = doc.get(section) or []
        if not isinstance(items, list):
            problems.add(_line(doc, 1), section, "expected a list of rules")
            continue
        for i, item in enumerate(items):
            rule = _rule(item, kind, f"{section}[{i}]", default_half_life, problems,
                         _line(items, 1))
            if rule is None:
                continue
            if rule.name in seen:
                problems.add(rule.line, f"rule {rule.name!r}",
                             f"duplicate name (first used on line {seen[rule.name]}); "
                             "expected unique rule names")
                continue
            seen[rule.name] = rule.line
            if rule.group not in groups:
                if doc.get("groups"):
                    problems.add(rule.line, f"rule {rule.name!r}", f"group {rule.group!r} is "
                                 f"not declared; expected one of {', '.join(sorted(groups))}")
                    continue
                groups[rule.group] = Group(rule.group)
            rules.append(rule)
    stages = _stages(doc.get("stages"), problems, _line(doc, 1))
    fit_buckets = _fit_buckets(doc.get("fit_buckets"), problems, _line(doc, 1))
    models = _models(doc.get("models"), problems, _line(doc, 1))
    if not rules and not problems.items and (doc.get("fit") or doc.get("engagement")):
        problems.add(_line(doc, 1), "", "every rule is disabled")
    if problems.items:
        raise RulesFileError(path, problems.items)
    groups.setdefault(DEFAULT_GROUP, Group(DEFAULT_GROUP))
    return RuleSet(
        path=path, name=str(doc.get("name") or Path(path).stem), mql_threshold=mql,
        groups=groups, rules=tuple(rules),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
        stages=stages, fit_buckets=fit_buckets, models=models,
    )


def _number(value: Any, problems: _Problems, line: int, where: str, *,
            allow_none: bool = False, positive: bool = False) -> float | None:
    if value is None:
        if not allow_none:
            problems.add(line, where, "missing; expected a number")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            float(value)):
        problems.add(line, where, f"{value!r} is not a number; expected a number")
        return None
    if positive and value <= 0:
        problems.add(line, where, f"{value!r} must be greater than 0")
        return None
    return float(value)


def _decay_section(value: Any, problems: _Problems, line: int) -> float | None:
    if value is None or value is False:
        return None
    if not isinstance(value, dict):
        problems.add(line, "decay", "expected a mapping like {half_life_days: 30}")
        return None
    for key in value:
        if key != "half_life_days":
            problems.add(_line(value, line), "decay", f"unknown key {key!r}; expected "
                         "half_life_days")
    return _number(value.get("half_life_days"), problems, _line(value, line),
                   "decay.half_life_days", positive=True)


def _groups_section(value: Any, problems: _Problems, line: int) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    if value is None:
        return groups
    if not isinstance(value, dict):
        problems.add(line, "groups", "expected a mapping of group name → {cap, floor, "
                     "mql_threshold, description}")
        return groups
    for name, spec in value.items():
        gline = _line(spec, _line(value, line))
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
        cap = _number(spec.get("cap"), problems, gline, f"{where}.cap", allow_none=True)
        floor = _number(spec.get("floor"), problems, gline, f"{where}.floor", allow_none=True)
        if cap is not None and floor is not None and floor > cap:
            problems.add(gline, where, f"floor {floor:g} is above cap {cap:g}")
        groups[str(name)] = Group(
            str(name), cap=cap, floor=floor,
            mql_threshold=_number(spec.get("mql_threshold"), problems, gline,
                                  f"{where}.mql_threshold", allow_none=True),
            description=str(spec.get("description") or ""),
        )
    return groups


_RULE_KEYS = {"name", "description", "points", "group", "enabled", "all", "any", "field",
              "case_sensitive"}
_ENGAGEMENT_KEYS = {"once", "repeatable", "cap", "half_life_days", "decay",
                    *ENGAGEMENT_SHORTHANDS}


def _rule(item: Any, kind: str, where: str, default_half_life: float | None,
          problems: _Problems, line: int) -> Rule | None:
    rline = _line(item, line)
    if not isinstance(item, dict):
        problems.add(rline, where, "expected a mapping with name, points and conditions")
        return None
    name = item.get("name")
    label = f"rule {name!r} ({where})" if name else where
    if not name or not isinstance(name, str):
        problems.add(rline, where, "missing name; expected a short unique name")
        return None
    allowed = _RULE_KEYS | set(OPERATORS) | (_ENGAGEMENT_KEYS if kind == "engagement" else
                                             set())
    for key in item:
        if key not in allowed:
            hint = ""
            if kind == "fit" and key in _ENGAGEMENT_KEYS:
                hint = " (fit rules count once and do not decay; put it under engagement)"
            problems.add(rline, label, f"unknown key {key!r}{hint}; expected one of "
                         f"{', '.join(sorted(allowed))}")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.add(rline, label, f"enabled: {enabled!r} is not true/false")
    points = _number(item.get("points"), problems, rline, f"{label}: points")
    if points is not None and points == 0:
        problems.add(rline, label, "points: 0 adds nothing; expected a non-zero number "
                     "(negative for penalties)")
    group = str(item.get("group") or DEFAULT_GROUP)
    case_sensitive = bool(item.get("case_sensitive", False))
    conditions = _conditions(item, kind, label, case_sensitive, problems, rline)
    match_any = "any" in item
    cap = _number(item.get("cap"), problems, rline, f"{label}: cap", allow_none=True,
                  positive=True)
    once = True
    half_life: float | None = None
    if kind == "engagement":
        once = bool(item.get("once", not item.get("repeatable", True)))
        if "once" in item and "repeatable" in item and item["once"] == item["repeatable"]:
            problems.add(rline, label, "once and repeatable contradict each other; give one")
        decay = item.get("decay", True)
        if decay is False:
            half_life = None
            if "half_life_days" in item:
                problems.add(rline, label, "half_life_days with decay: false; give one")
        elif decay is not True:
            problems.add(rline, label, f"decay: {decay!r}; expected true or false")
        else:
            half_life = _number(item.get("half_life_days", default_half_life), problems,
                                rline, f"{label}: half_life_days", allow_none=True,
                                positive=True)
    attempted = any(k in item for k in ("field", "all", "any", *ENGAGEMENT_SHORTHANDS))
    if not conditions and kind == "fit" and not attempted:
        problems.add(rline, label, "no condition; expected field plus an operator "
                     f"({', '.join(OPERATORS)}), or all:/any: lists of them")
    if enabled is False or points is None or points == 0:
        return None
    return Rule(name=name, kind=kind, points=points, group=group,
                conditions=tuple(conditions), match_any=match_any, once=once, cap=cap,
                half_life_days=half_life, description=str(item.get("description") or ""),
                line=rline)


def _conditions(item: Mapping[str, Any], kind: str, label: str, case_sensitive: bool,
                problems: _Problems, line: int) -> list[Condition]:
    out: list[Condition] = []
    if "all" in item and "any" in item:
        problems.add(line, label, "all and any together; nest them in two rules instead")
    if kind == "engagement":
        for key in ENGAGEMENT_SHORTHANDS:
            if key in item:
                cond = _shorthand(key, item[key], label, case_sensitive, problems, line)
                if cond is not None:
                    out.append(cond)
    if "field" in item:
        spec = {k: v for k, v in item.items() if k in OPERATORS or k == "field"}
        cond = _condition(spec, kind, label, case_sensitive, problems, line)
        if cond is not None:
            out.append(cond)
    elif any(k in item for k in OPERATORS):
        problems.add(line, label, "an operator without field; expected field: <name>")
    for key in ("all", "any"):
        if key not in item:
            continue
        items = item[key]
        if not isinstance(items, list) or not items:
            problems.add(line, label, f"{key}: expected a non-empty list of conditions "
                         "like {field: industry, in: [software]}")
            continue
        if kind == "engagement" and key == "any" and out:
            problems.add(line, label, "any: cannot be combined with touch_type/channel/"
                         "campaign/content/url shorthands (they are ANDed); use all:")
        for sub in items:
            cond = _condition(sub, kind, label, case_sensitive, problems, _line(sub, line))
            if cond is not None:
                out.append(cond)
    return out


def _glob_regex(pattern: str) -> str:
    """A URL glob (``*`` any run, ``?`` one character) as an anchored regex."""
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        elif ch in ".^$+()[]{}|\\":
            parts.append("\\" + ch)
        else:
            parts.append(ch)
    return "^" + "".join(parts) + "$"


def _shorthand(key: str, value: Any, label: str, case_sensitive: bool, problems: _Problems,
               line: int) -> Condition | None:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str | int) and not isinstance(v, bool)
                             for v in values):
        problems.add(line, label, f"{key}: {value!r}; expected a value or a list of values")
        return None
    texts = [str(v) for v in values]
    if key == "url":
        regex = "|".join(f"(?:{_glob_regex(v)})" for v in texts)
        return Condition(field="url", scope="touch", column="url", custom=False,
                         kind=ColumnType.STRING, op="matches", value=regex,
                         case_sensitive=case_sensitive)
    if key in ("campaign", "content"):
        name_col = "name" if key == "campaign" else "title"
        return Condition(field=key, scope=key, column=f"{key}_id", custom=False,
                         kind=ColumnType.STRING, op="in", value=texts,
                         case_sensitive=case_sensitive, alternatives=(name_col,))
    return Condition(field=key, scope="touch", column=key, custom=False,
                     kind=ColumnType.STRING, op="in", value=texts,
                     case_sensitive=case_sensitive)


def resolve_field(name: str, kind: str) -> tuple[str, str, bool, ColumnType, bool] | str:
    """``(scope, column, is_custom, type, is_technology)`` of a field name, or an error text.

    Fit rules read the person (``title``, ``contact.title``, ``custom.Plan``) and their
    account (``account.industry``, ``account.custom.Tier``, ``account.technology``);
    engagement rules also read the touch (``touch_type``, ``touch.url``,
    ``properties.form``), its campaign (``campaign.campaign_type``) and content
    (``content.topic``).
    """
    parts = name.split(".")
    default_scope = "contact" if kind == "fit" else "touch"
    scopes = ("contact", "account") if kind == "fit" else tuple(_SCOPES)
    if parts[0] in _SCOPES:
        scope, rest = parts[0], parts[1:]
    else:
        scope, rest = default_scope, parts
    if scope not in scopes:
        return (f"field {name!r}: {scope} fields are for engagement rules; fit rules read "
                "contact.* and account.*")
    if not rest or not rest[0]:
        return f"field {name!r} names no column"
    entity_name, bag = _SCOPES[scope]
    ent = ENTITY_BY_NAME[entity_name]
    if bag and rest[0] == bag:
        key = ".".join(rest[1:])
        if not key:
            return f"field {name!r}: expected {scope}.{bag}.<attribute name>"
        return scope, key, True, ColumnType.STRING, False
    column = ".".join(rest)
    if scope == "account" and column in TECHNOLOGY_FIELDS:
        return scope, TECHNOLOGY_FIELDS[column], False, ColumnType.STRING, True
    if (scope, column) in _DERIVED:
        return scope, column, False, _DERIVED[(scope, column)], False
    if column in ent.column_names and column not in _NOT_RULE_FIELDS:
        return scope, column, False, ent.column(column).type, False
    choices = [c for c in ent.column_names if c not in _NOT_RULE_FIELDS]
    choices += [c for (s, c) in _DERIVED if s == scope]
    if scope == "account":
        choices += list(TECHNOLOGY_FIELDS)
    prefix = "" if scope == default_scope else f"{scope}."
    bag_hint = f", or {scope}.{bag}.<attribute>" if bag else ""
    article = "an" if scope[0] in "aeiou" else "a"
    return (f"field {name!r} is not {article} {scope} field; expected one of "
            f"{', '.join(prefix + c for c in choices)}{bag_hint}")


def _condition(spec: Any, kind: str, label: str, case_sensitive: bool, problems: _Problems,
               line: int) -> Condition | None:
    if not isinstance(spec, dict) or "field" not in spec:
        problems.add(line, label, f"condition {spec!r}; expected a mapping like "
                     "{field: industry, in: [software]}")
        return None
    fname = spec["field"]
    if not isinstance(fname, str):
        problems.add(line, label, f"field: {fname!r}; expected a field name")
        return None
    for key in spec:
        if key not in OPERATORS and key not in ("field", "case_sensitive"):
            problems.add(line, label, f"field {fname!r}: unknown key {key!r}; expected an "
                         f"operator ({', '.join(OPERATORS)})")
    ops = [k for k in spec if k in OPERATORS]
    if len(ops) != 1:
        problems.add(line, label, f"field {fname!r}: {'no operator' if not ops else 'operators ' + ', '.join(ops)}; expected exactly one of {', '.join(OPERATORS)}")  # noqa: E501
        return None
    op = ops[0]
    resolved = resolve_field(fname, kind)
    if isinstance(resolved, str):
        problems.add(line, label, resolved)
        return None
    scope, column, custom, ctype, technology = resolved
    value = _operand(op, spec[op], fname, ctype, custom, technology, label, problems, line)
    if value is _INVALID:
        return None
    return Condition(field=fname, scope=scope, column=column, custom=custom, kind=ctype,
                     op=op, value=value,
                     case_sensitive=bool(spec.get("case_sensitive", case_sensitive)),
                     technology=technology)


_INVALID = object()
_NUMERIC_TYPES = {ColumnType.INTEGER, ColumnType.NUMBER, ColumnType.AMOUNT}
_TIME_TYPES = {ColumnType.DATE, ColumnType.TIMESTAMP}


def _scalar_ok(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | dt.date)


def _operand(op: str, value: Any, fname: str, ctype: ColumnType, custom: bool,
             technology: bool, label: str, problems: _Problems, line: int) -> Any:
    where = f"{label}: field {fname!r}"
    type_name = "custom attribute (text)" if custom else ctype.value
    if op == "exists":
        if not isinstance(value, bool):
            problems.add(line, where, f"exists: {value!r}; expected true or false")
            return _INVALID
        return value
    if technology and op in NUMERIC_OPS:
        problems.add(line, where, f"{op} on a technology; expected in, equals, contains, "
                     "starts_with, ends_with or matches")
        return _INVALID
    if op in NUMERIC_OPS:
        if not custom and ctype not in _NUMERIC_TYPES | _TIME_TYPES:
            problems.add(line, where, f"{op} needs a number or date field, and this one is "
                         f"{type_name}; expected equals/in/contains/matches")
            return _INVALID
        is_time = ctype in _TIME_TYPES and not custom
        items = value if op == "between" else [value]
        if op == "between" and (not isinstance(value, list) or len(value) != 2):
            problems.add(line, where, f"between: {value!r}; expected [low, high]")
            return _INVALID
        parsed: list[Any] = []
        for v in items:
            p = _time_value(v) if is_time else v
            bad = (p is None) if is_time else (
                isinstance(v, bool) or not isinstance(v, int | float))
            if bad:
                expected = "a date like 2024-01-31" if is_time else "a number"
                problems.add(line, where, f"{op}: {v!r}; expected {expected}")
                return _INVALID
            parsed.append(p if is_time else float(v))
        if op == "between":
            if parsed[0] > parsed[1]:
                problems.add(line, where, f"between: {value!r}; expected low ≤ high")
                return _INVALID
            return parsed
        return parsed[0]
    if op in STRING_OPS:
        if not custom and ctype not in (ColumnType.STRING, ColumnType.JSON):
            problems.add(line, where, f"{op} needs a text field, and this one is {type_name}")
            return _INVALID
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, str) and v for v in items):
            problems.add(line, where, f"{op}: {value!r}; expected text or a list of texts")
            return _INVALID
        if op == "matches":
            for v in items:
                try:
                    re.compile(v)
                except re.error as exc:
                    problems.add(line, where, f"matches: {v!r} is not a regular expression "
                                 f"({exc})")
                    return _INVALID
            return "|".join(f"(?:{v})" for v in items) if len(items) > 1 else items[0]
        return list(items)
    # equals, not_equals, in, not_in
    items = value if op in ("in", "not_in") else [value]
    if op in ("in", "not_in") and (not isinstance(value, list) or not value):
        problems.add(line, where, f"{op}: {value!r}; expected a non-empty list")
        return _INVALID
    if op in ("equals", "not_equals") and isinstance(value, list):
        problems.add(line, where, f"{op}: a list; use in/not_in for several values")
        return _INVALID
    out: list[Any] = []
    for v in items:
        if not _scalar_ok(v):
            problems.add(line, where, f"{op}: {v!r}; expected a value")
            return _INVALID
        if not custom and ctype == ColumnType.BOOLEAN:
            if not isinstance(v, bool):
                problems.add(line, where, f"{op}: {v!r}; the field is true/false")
                return _INVALID
            out.append(v)
        elif not custom and ctype in _NUMERIC_TYPES:
            if isinstance(v, bool) or not isinstance(v, int | float):
                problems.add(line, where, f"{op}: {v!r}; the field is a number")
                return _INVALID
            out.append(float(v))
        elif not custom and ctype in _TIME_TYPES:
            p = _time_value(v)
            if p is None:
                problems.add(line, where, f"{op}: {v!r}; expected a date like 2024-01-31")
                return _INVALID
            out.append(p)
        else:
            out.append(str(v).lower() if isinstance(v, bool) else str(v))
    return out if op in ("in", "not_in") else out[0]


def _time_value(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            return None
    return None


def _stages(value: Any, problems: _Problems, line: int) -> StageThresholds:
    if value is None:
        return StageThresholds()
    if not isinstance(value, dict):
        problems.add(line, "stages", "expected {consideration, decision, purchase, "
                     "activity_days}")
        return StageThresholds()
    sline = _line(value, line)
    base = StageThresholds()
    vals: dict[str, float] = {}
    for key in value:
        if key not in ("consideration", "decision", "purchase", "activity_days"):
            problems.add(sline, "stages", f"unknown key {key!r}; expected consideration, "
                         "decision, purchase or activity_days")
            continue
        n = _number(value[key], problems, sline, f"stages.{key}", positive=True)
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


def _fit_buckets(value: Any, problems: _Problems, line: int) -> FitBuckets:
    if value is None:
        return FitBuckets()
    if not isinstance(value, dict):
        problems.add(line, "fit_buckets", "expected {strong: 70, moderate: 40}")
        return FitBuckets()
    bline = _line(value, line)
    for key in value:
        if key not in ("strong", "moderate"):
            problems.add(bline, "fit_buckets", f"unknown key {key!r}; expected strong or "
                         "moderate")
    strong = _number(value.get("strong", 70.0), problems, bline, "fit_buckets.strong")
    moderate = _number(value.get("moderate", 40.0), problems, bline, "fit_buckets.moderate")
    if strong is None or moderate is None:
        return FitBuckets()
    if not 0 <= moderate <= strong <= 100:
        problems.add(bline, "fit_buckets", "expected 0 ≤ moderate ≤ strong ≤ 100")
    return FitBuckets(strong=strong, moderate=moderate)


def _models(value: Any, problems: _Problems, line: int) -> dict[str, ModelOptions]:
    out: dict[str, ModelOptions] = {}
    if value is None:
        return out
    if not isinstance(value, dict):
        problems.add(line, "models", f"expected a mapping of {', '.join(MODEL_NAMES)}")
        return out
    for name, spec in value.items():
        mline = _line(spec, _line(value, line))
        if name not in MODEL_NAMES:
            problems.add(mline, "models", f"unknown model {name!r}; expected one of "
                         f"{', '.join(MODEL_NAMES)}")
            continue
        spec = spec or {}
        if not isinstance(spec, dict):
            problems.add(mline, f"models.{name}", "expected a mapping")
            continue
        for key in spec:
            if key not in ("exclude", "target_stages", "horizon_days", "label"):
                problems.add(mline, f"models.{name}", f"unknown key {key!r}; expected "
                             "exclude, target_stages, horizon_days or label")
        exclude = spec.get("exclude") or []
        stages = spec.get("target_stages") or []
        for key, items in (("exclude", exclude), ("target_stages", stages)):
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                problems.add(mline, f"models.{name}.{key}", "expected a list of names")
        horizon = _number(spec.get("horizon_days"), problems, mline,
                          f"models.{name}.horizon_days", allow_none=True, positive=True)
        label = spec.get("label")
        if label is not None and label not in ("opened", "won"):
            problems.add(mline, f"models.{name}.label", f"{label!r}; expected opened or won")
        out[name] = ModelOptions(
            exclude=tuple(str(v) for v in exclude) if isinstance(exclude, list) else (),
            target_stages=tuple(str(v) for v in stages) if isinstance(stages, list) else (),
            horizon_days=int(horizon) if horizon is not None else None,
            label=label if label in ("opened", "won") else None,
        )
    return out
