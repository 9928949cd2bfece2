"""The value an operator is given (``in: [a, b]``, ``between: [1, 5]``): checked against
the operator and the field's type, and converted to what the engine compares with."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from revloop.analytics.scoring.rules.model import NUMERIC_OPS, STRING_OPS
from revloop.analytics.scoring.rules.yaml_lines import Problems
from revloop.schema import ColumnType

# Returned instead of a value when the operand was rejected (None can be a valid value).
INVALID = object()

_NUMERIC_TYPES = {ColumnType.INTEGER, ColumnType.NUMBER, ColumnType.AMOUNT}
_TIME_TYPES = {ColumnType.DATE, ColumnType.TIMESTAMP}


@dataclass(frozen=True)
class _Operand:
    """The operator, the field it tests and where to report problems with its value."""

    op: str
    ctype: ColumnType
    custom: bool
    where: str
    line: int
    problems: Problems

    @property
    def type_name(self) -> str:
        return "custom attribute (text)" if self.custom else self.ctype.value

    def reject(self, message: str) -> object:
        """Record ``message`` and return :data:`INVALID`."""
        self.problems.add(self.line, self.where, message)
        return INVALID


def check_operand(op: str, value: Any, fname: str, ctype: ColumnType, custom: bool,
                  technology: bool, label: str, problems: Problems, line: int) -> Any:
    """The operand of ``op`` on field ``fname`` ready for the engine, or :data:`INVALID`
    after recording why it cannot be used."""
    o = _Operand(op, ctype, custom, f"{label}: field {fname!r}", line, problems)
    if op == "exists":
        return _exists(o, value)
    if technology and op in NUMERIC_OPS:
        return o.reject(f"{op} on a technology; expected in, equals, contains, starts_with, "
                        "ends_with or matches")
    if op in NUMERIC_OPS:
        return _numeric(o, value)
    if op in STRING_OPS:
        return _text(o, value)
    return _equality(o, value)  # equals, not_equals, in, not_in


def _exists(o: _Operand, value: Any) -> Any:
    if not isinstance(value, bool):
        return o.reject(f"exists: {value!r}; expected true or false")
    return value


# --------------------------------------------------------------------------- gt … between

def _numeric(o: _Operand, value: Any) -> Any:
    if not o.custom and o.ctype not in _NUMERIC_TYPES | _TIME_TYPES:
        return o.reject(f"{o.op} needs a number or date field, and this one is "
                        f"{o.type_name}; expected equals/in/contains/matches")
    if o.op == "between" and (not isinstance(value, list) or len(value) != 2):
        return o.reject(f"between: {value!r}; expected [low, high]")
    # custom attributes are compared as numbers (the engine casts the text)
    is_time = o.ctype in _TIME_TYPES and not o.custom
    parsed: list[Any] = []
    for v in value if o.op == "between" else [value]:
        p = _time_value(v) if is_time else _number_value(v)
        if p is None:
            expected = "a date like 2024-01-31" if is_time else "a number"
            return o.reject(f"{o.op}: {v!r}; expected {expected}")
        parsed.append(p)
    if o.op != "between":
        return parsed[0]
    if parsed[0] > parsed[1]:
        return o.reject(f"between: {value!r}; expected low ≤ high")
    return parsed


def _number_value(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


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


# --------------------------------------------------------------------------- text operators

def _text(o: _Operand, value: Any) -> Any:
    if not o.custom and o.ctype not in (ColumnType.STRING, ColumnType.JSON):
        return o.reject(f"{o.op} needs a text field, and this one is {o.type_name}")
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        return o.reject(f"{o.op}: {value!r}; expected text or a list of texts")
    if o.op == "matches":
        return _regex(o, items)
    return list(items)


def _regex(o: _Operand, patterns: list[str]) -> Any:
    """One regex matching any of ``patterns`` (each compiled first to report the bad one)."""
    for v in patterns:
        try:
            re.compile(v)
        except re.error as exc:
            return o.reject(f"matches: {v!r} is not a regular expression ({exc})")
    return "|".join(f"(?:{v})" for v in patterns) if len(patterns) > 1 else patterns[0]


# --------------------------------------------------------------------------- equality, membership

def _equality(o: _Operand, value: Any) -> Any:
    listed = o.op in ("in", "not_in")
    if listed and (not isinstance(value, list) or not value):
        return o.reject(f"{o.op}: {value!r}; expected a non-empty list")
    if o.op in ("equals", "not_equals") and isinstance(value, list):
        return o.reject(f"{o.op}: a list; use in/not_in for several values")
    out: list[Any] = []
    for v in value if listed else [value]:
        p = _scalar(o, v)
        if p is INVALID:
            return INVALID
        out.append(p)
    return out if listed else out[0]


def _scalar(o: _Operand, v: Any) -> Any:
    """One value of equals/in, typed like the field (custom attributes are text)."""
    if not isinstance(v, str | int | float | bool | dt.date):
        return o.reject(f"{o.op}: {v!r}; expected a value")
    if o.custom:
        return _as_text(v)
    if o.ctype == ColumnType.BOOLEAN:
        return v if isinstance(v, bool) else o.reject(f"{o.op}: {v!r}; the field is true/false")
    if o.ctype in _NUMERIC_TYPES:
        p = _number_value(v)
        return o.reject(f"{o.op}: {v!r}; the field is a number") if p is None else p
    if o.ctype in _TIME_TYPES:
        t = _time_value(v)
        return o.reject(f"{o.op}: {v!r}; expected a date like 2024-01-31") if t is None else t
    return _as_text(v)


def _as_text(v: Any) -> str:
    # YAML true/false are compared as the texts "true"/"false"
    return str(v).lower() if isinstance(v, bool) else str(v)
