"""The rules file: what is accepted, and the clear errors for what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from revloop.analytics.scoring.errors import RulesFileError
from revloop.analytics.scoring.rules import load_rules, parse_rules
from tests.analytics.scoring import hand_world as hw
from tests.conftest import EXAMPLES


def _problems(text: str) -> list[str]:
    with pytest.raises(RulesFileError) as info:
        parse_rules(text, "rules.yaml")
    assert info.value.path == "rules.yaml"
    assert info.value.code == "scoring_rules_invalid"
    return info.value.problems


def test_hand_world_rules_parse() -> None:
    rules = parse_rules(hw.RULES, "hand.yaml")
    assert rules.mql_threshold == 50
    assert [r.name for r in rules.fit_rules][:3] == ["software", "big_company", "senior"]
    names = [r.name for r in rules.engagement_rules]
    assert "disabled_rule" not in names and len(names) == 6
    webinar = next(r for r in rules.engagement_rules if r.name == "webinar")
    assert webinar.once and webinar.half_life_days == 30 and webinar.group == "analytics"
    demo = next(r for r in rules.engagement_rules if r.name == "demo_request")
    assert demo.half_life_days is None and not demo.once
    assert rules.groups["analytics"].cap == 25 and rules.groups["penalties"].floor == -40
    assert len(rules.content_hash) == 16


def test_example_rules_file_is_valid() -> None:
    rules = load_rules(EXAMPLES / "scoring.yaml")
    assert rules.mql_threshold is not None and rules.fit_rules and rules.engagement_rules
    kinds = {c.scope for r in rules.rules for c in r.conditions}
    assert {"contact", "account", "touch"} <= kinds
    assert any(r.points < 0 for r in rules.rules)
    assert rules.model_options("contact_fit").exclude


def test_unknown_field_names_file_line_rule_and_choices() -> None:
    text = "mql_threshold: 50\nfit:\n  - name: size\n    field: account.employes\n" \
           "    gte: 200\n    points: 5\n"
    (problem,) = _problems(text)
    assert problem.startswith("line 3: rule 'size' (fit[0]): field 'account.employes' is not "
                              "an account field; expected one of ")
    assert "account.employees" in problem and "account.custom.<attribute>" in problem


def test_error_message_carries_the_path() -> None:
    with pytest.raises(RulesFileError) as info:
        parse_rules("fit:\n  - {name: a, field: title, gte: 3, points: 1}\n", "my.yaml")
    assert info.value.message == (
        "my.yaml: line 2: rule 'a' (fit[0]): field 'title': gte needs a number or date field, "
        "and this one is string; expected equals/in/contains/matches")


@pytest.mark.parametrize(("rule", "expected"), [
    ("{name: a, field: title, equals: x}", "points: missing; expected a number"),
    ("{name: a, field: title, equals: x, points: ten}", "'ten' is not a number"),
    ("{name: a, field: title, equals: x, points: 0}", "points: 0 adds nothing"),
    ("{name: a, field: title, points: 3}", "no operator; expected exactly one of"),
    ("{name: a, field: title, equals: x, in: [y], points: 3}", "operators equals, in"),
    ("{name: a, field: title, in: x, points: 3}", "in: 'x'; expected a non-empty list"),
    ("{name: a, field: email, matches: '(', points: 3}", "is not a regular expression"),
    ("{name: a, field: account.employees, gte: many, points: 3}",
     "gte: 'many'; expected a number"),
    ("{name: a, field: account.employees, between: [10], points: 3}",
     "between: [10]; expected [low, high]"),
    ("{name: a, field: is_unsubscribed, equals: yes please, points: 3}",
     "the field is true/false"),
    ("{name: a, field: created_at, gte: soon, points: 3}", "expected a date like 2024-01-31"),
    ("{name: a, field: touch_type, equals: visit, points: 3}",
     "field 'touch_type' is not a contact field"),
    ("{name: a, field: campaign.name, equals: x, points: 3}",
     "campaign fields are for engagement rules"),
    ("{name: a, field: title, equals: x, points: 3, once: true}",
     "fit rules count once and do not decay; put it under engagement"),
    ("{name: a, field: title, equals: x, points: 3, group: nope}",
     "group 'nope' is not declared; expected one of general"),
    ("{points: 3}", "missing name"),
    ("{name: a, points: 3}", "no condition"),
])
def test_bad_fit_rules(rule: str, expected: str) -> None:
    text = f"groups:\n  general: {{}}\nfit:\n  - {rule}\n"
    problems = _problems(text)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("line ") for p in problems)


@pytest.mark.parametrize(("rule", "expected"), [
    ("{name: a, touch_type: visit, points: 3, half_life_days: -2}",
     "half_life_days: -2 must be greater than 0"),
    ("{name: a, touch_type: visit, points: 3, cap: 0}", "cap: 0 must be greater than 0"),
    ("{name: a, touch_type: visit, points: 3, decay: false, half_life_days: 3}",
     "half_life_days with decay: false"),
    ("{name: a, touch_type: {x: 1}, points: 3}", "expected a value or a list of values"),
    ("{name: a, touch_type: visit, points: 3, once: true, repeatable: true}",
     "once and repeatable contradict each other"),
    ("{name: a, touch_type: visit, any: [{field: channel, equals: email}], points: 3}",
     "any: cannot be combined"),
    ("{name: a, field: touch.properties, equals: x, points: 3}",
     "expected touch.properties.<attribute name>"),
    ("{name: a, field: url, contains: 5, points: 3}", "expected text or a list of texts"),
    ("{name: a, tuch_type: visit, points: 3}", "unknown key 'tuch_type'"),
])
def test_bad_engagement_rules(rule: str, expected: str) -> None:
    problems = _problems(f"engagement:\n  - {rule}\n")
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once_with_its_line() -> None:
    text = (
        "mql_threshold: high\n"
        "fit:\n"
        "  - {name: a, field: title, equals: x, points: 1}\n"
        "  - {name: a, field: title, equals: y, points: 1}\n"
        "engagement:\n"
        "  - {name: b, touch_type: visit, points: 1, cap: -1}\n"
        "colour: blue\n"
    )
    problems = _problems(text)
    assert len(problems) == 4, problems
    assert any("unknown section 'colour'" in p for p in problems)
    assert any(p.startswith("line 1: mql_threshold: 'high' is not a number") for p in problems)
    assert any(p.startswith("line 4: rule 'a'") and "duplicate name (first used on line 3)"
               in p for p in problems)
    assert any(p.startswith("line 6: rule 'b' (engagement[0]): cap") for p in problems)
    with pytest.raises(RulesFileError) as info:
        parse_rules(text, "r.yaml")
    assert info.value.message.startswith("r.yaml: 4 problems:\n  - line 1:")


def test_yaml_syntax_and_shape_errors(tmp_path: Path) -> None:
    assert _problems("fit: [\n")[0].startswith("line 2: not valid YAML")
    assert "expected a mapping" in _problems("- a\n- b\n")[0]
    with pytest.raises(RulesFileError, match="file not found; pass --rules PATH"):
        load_rules(tmp_path / "missing.yaml")


def test_sections_stages_buckets_models() -> None:
    rules = parse_rules(
        "stages: {consideration: 40, decision: 80, purchase: 90, activity_days: 60}\n"
        "fit_buckets: {strong: 80, moderate: 50}\n"
        "models:\n  contact_fit: {exclude: [Tags], target_stages: [customer]}\n"
        "  in_market: {horizon_days: 60}\n  account_fit: {label: won}\n")
    assert (rules.stages.decision, rules.stages.activity_days) == (80, 60)
    assert rules.fit_buckets.strong == 80
    assert rules.model_options("contact_fit").exclude == ("Tags",)
    assert rules.model_options("in_market").horizon_days == 60
    assert rules.model_options("account_fit").label == "won"
    problems = _problems("stages: {decision: 99, purchase: 90}\nmodels:\n  lead_fit: {}\n"
                         "  account_fit: {label: maybe}\n")
    assert any("consideration ≤ decision ≤ purchase" in p for p in problems)
    assert any("unknown model 'lead_fit'" in p for p in problems)
    assert any("'maybe'; expected opened or won" in p for p in problems)
