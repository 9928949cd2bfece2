"""Reading a rules file: the whole document into a :class:`RuleSet`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from revloop.analytics.scoring.errors import RulesFileError
from revloop.analytics.scoring.rules.model import DEFAULT_GROUP, Group, Rule, RuleSet
from revloop.analytics.scoring.rules.rule import parse_rule
from revloop.analytics.scoring.rules.sections import (
    decay_section,
    fit_buckets_section,
    groups_section,
    models_section,
    stages_section,
)
from revloop.analytics.scoring.rules.yaml_lines import Problems, line_of, load_yaml, number

_KNOWN_TOP = {"version", "name", "description", "mql_threshold", "decay", "groups", "fit",
              "engagement", "stages", "fit_buckets", "models"}


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
    doc = load_yaml(text, path)
    if not isinstance(doc, dict):
        raise RulesFileError(path, ["expected a mapping with mql_threshold, groups, fit and "
                                    "engagement sections at the top level"])
    problems = Problems()
    top = line_of(doc, 1)
    # one section after another, always in this order: the order problems are listed in
    _check_top(doc, problems, top)
    mql = number(doc.get("mql_threshold"), problems, top, "mql_threshold", allow_none=True)
    default_half_life = decay_section(doc.get("decay"), problems, top)
    groups = groups_section(doc.get("groups"), problems, top)
    rules = _rules(doc, groups, default_half_life, problems, top)
    stages = stages_section(doc.get("stages"), problems, top)
    fit_buckets = fit_buckets_section(doc.get("fit_buckets"), problems, top)
    models = models_section(doc.get("models"), problems, top)
    if not rules and not problems.items and (doc.get("fit") or doc.get("engagement")):
        problems.add(top, "", "every rule is disabled")
    if problems.items:
        raise RulesFileError(path, problems.items)
    groups.setdefault(DEFAULT_GROUP, Group(DEFAULT_GROUP))
    return RuleSet(
        path=path, name=str(doc.get("name") or Path(path).stem), mql_threshold=mql,
        groups=groups, rules=tuple(rules),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
        stages=stages, fit_buckets=fit_buckets, models=models,
    )


def _check_top(doc: Mapping[str, Any], problems: Problems, top: int) -> None:
    for key in doc:
        if key not in _KNOWN_TOP:
            problems.add(top, "", f"unknown section {key!r}; expected one of "
                         f"{', '.join(sorted(_KNOWN_TOP))}")
    version = doc.get("version", 1)
    if version != 1:
        problems.add(top, "version", f"{version!r} is not supported; expected 1")


def _rules(doc: Mapping[str, Any], groups: dict[str, Group], default_half_life: float | None,
           problems: Problems, top: int) -> list[Rule]:
    """The enabled rules of the fit and engagement sections. Undeclared groups are added to
    ``groups`` when the file declares none (and are an error when it does)."""
    rules: list[Rule] = []
    seen: dict[str, int] = {}  # rule name → line first used on
    for kind in ("fit", "engagement"):
        items = doc.get(kind) or []
        if not isinstance(items, list):
            problems.add(top, kind, "expected a list of rules")
            continue
        for i, item in enumerate(items):
            rule = parse_rule(item, kind, f"{kind}[{i}]", default_half_life, problems,
                              line_of(items, 1))
            if rule is not None and _accept(rule, seen, groups, bool(doc.get("groups")),
                                            problems):
                rules.append(rule)
    return rules


def _accept(rule: Rule, seen: dict[str, int], groups: dict[str, Group], declared: bool,
            problems: Problems) -> bool:
    """Whether ``rule`` joins the set: a unique name, and a declared group if any are."""
    if rule.name in seen:
        problems.add(rule.line, f"rule {rule.name!r}",
                     f"duplicate name (first used on line {seen[rule.name]}); "
                     "expected unique rule names")
        return False
    seen[rule.name] = rule.line
    if rule.group in groups:
        return True
    if declared:
        problems.add(rule.line, f"rule {rule.name!r}", f"group {rule.group!r} is "
                     f"not declared; expected one of {', '.join(sorted(groups))}")
        return False
    groups[rule.group] = Group(rule.group)
    return True
