"""YAML that remembers where each mapping and list started, and the collector of problems.

Problems are gathered rather than raised so that one run reports every mistake in the file.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from revloop.analytics.scoring.errors import RulesFileError


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


def load_yaml(text: str, path: str) -> Any:
    """The YAML document in ``text``; invalid YAML raises :class:`RulesFileError`."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulesFileError(path, [f"{where}not valid YAML ({problem})"]) from None


def line_of(obj: Any, fallback: int) -> int:
    """The line ``obj`` started on, or ``fallback`` for scalars (which do not remember it)."""
    return int(getattr(obj, "line", 0) or fallback)


class Problems:
    """Every problem found so far, as ``line N: where: message`` texts in the order found."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, line: int, where: str, message: str) -> None:
        """Record one problem; an empty ``where`` leaves out its ``where:`` part."""
        self.items.append(f"line {line}: {where}{': ' if where else ''}{message}")


def number(value: Any, problems: Problems, line: int, where: str, *,
           allow_none: bool = False, positive: bool = False) -> float | None:
    """``value`` as a finite float, or None after recording why it is not one."""
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
