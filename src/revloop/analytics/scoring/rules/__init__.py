"""The scoring rules file (``scoring.yaml``): parsing and validation into a :class:`RuleSet`.

Every problem is reported with the file, the line, the rule, the field and what was expected,
all at once (a file with three mistakes gives three lines, not three runs). The format is
documented in ``docs/scoring.md``; ``examples/scoring.yaml`` is a commented example.

Modules:

* ``model`` — the validated rule set (frozen dataclasses) and the format's vocabulary;
* ``yaml_lines`` — YAML that remembers line numbers, and the problem collector;
* ``parse`` — the document: top-level checks, the rules, uniqueness and groups;
* ``rule`` — one rule and its conditions;
* ``fields`` — what a field name points at, and the engagement shorthands;
* ``operands`` — the value an operator is given, checked per operator family;
* ``sections`` — decay, groups, stages, fit_buckets and models.
"""

from revloop.analytics.scoring.rules.fields import resolve_field
from revloop.analytics.scoring.rules.model import (
    DEFAULT_GROUP,
    ENGAGEMENT_SHORTHANDS,
    MODEL_NAMES,
    NUMERIC_OPS,
    OPERATORS,
    STRING_OPS,
    TECHNOLOGY_FIELDS,
    Condition,
    FitBuckets,
    Group,
    ModelOptions,
    Rule,
    RuleSet,
    StageThresholds,
)
from revloop.analytics.scoring.rules.parse import load_rules, parse_rules

__all__ = [
    "DEFAULT_GROUP",
    "ENGAGEMENT_SHORTHANDS",
    "MODEL_NAMES",
    "NUMERIC_OPS",
    "OPERATORS",
    "STRING_OPS",
    "TECHNOLOGY_FIELDS",
    "Condition",
    "FitBuckets",
    "Group",
    "ModelOptions",
    "Rule",
    "RuleSet",
    "StageThresholds",
    "load_rules",
    "parse_rules",
    "resolve_field",
]
