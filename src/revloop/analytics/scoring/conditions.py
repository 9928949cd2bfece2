"""Rule conditions compiled to Ibis predicates (the same SQL on every engine).

Semantics, documented in docs/scoring.md:

* text comparisons ignore case unless the rule says ``case_sensitive: true``;
* a missing value matches nothing, except ``not_equals`` / ``not_in`` (a missing value is
  "not one of them") and ``exists: false``;
* custom attributes are text; ``gt``/``gte``/``lt``/``lte``/``between`` read them as
  numbers, and text that is not a number matches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ibis

from revloop.analytics.scoring.rules import NUMERIC_OPS, Condition
from revloop.schema import ColumnType
from revloop.store.queries import safe_float

_NUMERIC = {ColumnType.INTEGER, ColumnType.NUMBER, ColumnType.AMOUNT}
_TIME = {ColumnType.DATE, ColumnType.TIMESTAMP}


def _literal_time(value: Any, kind: ColumnType) -> Any:
    lit = ibis.literal(value, type="timestamp")
    return lit.cast("date") if kind == ColumnType.DATE else lit


def _text_predicate(cond: Condition, value: Any) -> Any:
    """Predicate of a text (or custom-attribute) column."""
    op = cond.op
    fold = not cond.case_sensitive
    text = value.lower() if fold else value

    def norm(v: Any) -> str:
        s = str(v)
        return s.lower() if fold else s

    if op in ("equals", "not_equals"):
        pred = text == norm(cond.value)
    elif op in ("in", "not_in"):
        pred = text.isin([norm(v) for v in cond.value])
    elif op == "contains":
        pred = _any([text.contains(norm(v)) for v in cond.value])
    elif op == "starts_with":
        pred = _any([text.startswith(norm(v)) for v in cond.value])
    elif op == "ends_with":
        pred = _any([text.endswith(norm(v)) for v in cond.value])
    elif op == "matches":
        pattern = cond.value if cond.case_sensitive else f"(?i){cond.value}"
        pred = value.re_search(pattern)
    elif op in NUMERIC_OPS:
        return _numeric_predicate(cond, safe_float(value))
    else:  # pragma: no cover - validated by the parser
        raise ValueError(f"unknown operator {op}")
    return pred


def _numeric_predicate(cond: Condition, value: Any) -> Any:
    op, v = cond.op, cond.value
    if op in ("equals", "not_equals"):
        return value == float(v)
    if op in ("in", "not_in"):
        return value.isin([float(x) for x in v])
    if op == "gt":
        return value > float(v)
    if op == "gte":
        return value >= float(v)
    if op == "lt":
        return value < float(v)
    if op == "lte":
        return value <= float(v)
    if op == "between":
        return (value >= float(v[0])) & (value <= float(v[1]))
    raise ValueError(f"operator {op} does not apply to numbers")  # pragma: no cover


def _time_predicate(cond: Condition, value: Any) -> Any:
    op, v = cond.op, cond.value
    lit: Callable[[Any], Any] = lambda x: _literal_time(x, cond.kind)  # noqa: E731
    if op in ("equals", "not_equals"):
        return value == lit(v)
    if op in ("in", "not_in"):
        return value.isin([lit(x) for x in v])
    if op == "gt":
        return value > lit(v)
    if op == "gte":
        return value >= lit(v)
    if op == "lt":
        return value < lit(v)
    if op == "lte":
        return value <= lit(v)
    if op == "between":
        return (value >= lit(v[0])) & (value <= lit(v[1]))
    raise ValueError(f"operator {op} does not apply to dates")  # pragma: no cover


def _any(preds: Sequence[Any]) -> Any:
    out = preds[0]
    for p in preds[1:]:
        out = out | p
    return out


def value_predicate(cond: Condition, value: Any) -> Any:
    """The condition on an Ibis value ``value`` (NULL-safe: never returns NULL)."""
    if cond.op == "exists":
        present = value.notnull()
        if cond.kind in (ColumnType.STRING, ColumnType.JSON) or cond.custom:
            present = present & (value != "")
        return present if cond.value else ~present
    if cond.custom or cond.kind in (ColumnType.STRING, ColumnType.JSON):
        pred = _text_predicate(cond, value)
    elif cond.kind in _NUMERIC:
        pred = _numeric_predicate(cond, value.cast("float64"))
    elif cond.kind in _TIME:
        pred = _time_predicate(cond, value)
    elif cond.kind == ColumnType.BOOLEAN:
        if cond.op in ("equals", "not_equals"):
            pred = value == bool(cond.value)
        else:
            pred = value.isin([bool(v) for v in cond.value])
    else:  # pragma: no cover
        raise ValueError(f"unsupported type {cond.kind}")
    negative = cond.op in ("not_equals", "not_in")
    if negative:
        return ibis.coalesce(~pred, True)
    return ibis.coalesce(pred, False)


def combine(preds: Sequence[Any], match_any: bool) -> Any:
    """AND (or OR) of predicates; TRUE when there are none."""
    if not preds:
        return ibis.literal(True)
    out = preds[0]
    for p in preds[1:]:
        out = (out | p) if match_any else (out & p)
    return out
