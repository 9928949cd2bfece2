"""Field names of conditions: what they point at, and the engagement shorthands."""

from __future__ import annotations

from typing import Any

from revloop.analytics.scoring.rules.model import TECHNOLOGY_FIELDS, Condition
from revloop.analytics.scoring.rules.yaml_lines import Problems
from revloop.schema import ENTITY_BY_NAME, ColumnType, Entity

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
# Outcome and bookkeeping columns that rules must not read.
_NOT_RULE_FIELDS = {"custom", "properties", "source"}


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
    prefix = "" if scope == default_scope else f"{scope}."
    return _not_a_field(name, scope, ent, bag, prefix)


def _not_a_field(name: str, scope: str, ent: Entity, bag: str | None, prefix: str) -> str:
    """The error text for an unknown column of ``scope``, listing what it can read."""
    choices = [c for c in ent.column_names if c not in _NOT_RULE_FIELDS]
    choices += [c for (s, c) in _DERIVED if s == scope]
    if scope == "account":
        choices += list(TECHNOLOGY_FIELDS)
    bag_hint = f", or {scope}.{bag}.<attribute>" if bag else ""
    article = "an" if scope[0] in "aeiou" else "a"
    return (f"field {name!r} is not {article} {scope} field; expected one of "
            f"{', '.join(prefix + c for c in choices)}{bag_hint}")


def glob_regex(pattern: str) -> str:
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


def shorthand(key: str, value: Any, label: str, case_sensitive: bool, problems: Problems,
              line: int) -> Condition | None:
    """The condition an engagement shorthand (``touch_type: webinar``, ``url: /pricing*``)
    stands for, or None after recording why ``value`` cannot be used."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str | int) and not isinstance(v, bool)
                             for v in values):
        problems.add(line, label, f"{key}: {value!r}; expected a value or a list of values")
        return None
    texts = [str(v) for v in values]
    if key == "url":
        regex = "|".join(f"(?:{glob_regex(v)})" for v in texts)
        return Condition(field="url", scope="touch", column="url", custom=False,
                         kind=ColumnType.STRING, op="matches", value=regex,
                         case_sensitive=case_sensitive)
    if key in ("campaign", "content"):
        # campaigns and content are named by id or by name/title
        name_col = "name" if key == "campaign" else "title"
        return Condition(field=key, scope=key, column=f"{key}_id", custom=False,
                         kind=ColumnType.STRING, op="in", value=texts,
                         case_sensitive=case_sensitive, alternatives=(name_col,))
    return Condition(field=key, scope="touch", column=key, custom=False,
                     kind=ColumnType.STRING, op="in", value=texts,
                     case_sensitive=case_sensitive)
