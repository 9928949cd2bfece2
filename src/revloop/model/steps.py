"""The build as small named steps, run in an order derived from what each step reads.

A :class:`Step` writes one table (its ``name``) from the tables it declares as ``inputs``: its
``build`` function receives those tables, materialised, by name (and the build options) and
returns an Ibis expression. A step never opens the store itself, so its declared inputs are
all it can read and the order of the build follows from them: :func:`plan` sorts the steps
topologically with :class:`graphlib.TopologicalSorter`. The raw tables (``raw_<entity>``,
filled by imports) are the sources.

Every step materialises its table, so a step that joins a relation with itself always reads a
stored table (Ibis cannot join a relation with itself inside one expression reliably across
backends).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from graphlib import CycleError, TopologicalSorter

import ibis

from revloop.model import tables
from revloop.schema import ENTITIES

#: The materialised input tables of a step, by table name.
Inputs = Mapping[str, ibis.Table]

#: The tables imports fill; every other table is written by exactly one step.
SOURCES: frozenset[str] = frozenset(tables.raw(e.name) for e in ENTITIES)


class PlanError(ValueError):
    """The steps cannot be ordered: a cycle, an input nobody writes, a table written twice."""


@dataclass(frozen=True)
class BuildOptions:
    """What the build needs to know beyond the data."""

    free_mail_domains: Sequence[str] = ()
    corporate_currency: str | None = None  # None: told from the rates or the deals


#: A step's build function: its input tables by name and the options → the table it writes.
BuildFunction = Callable[[Inputs, BuildOptions], ibis.Table]


@dataclass(frozen=True)
class Step:
    """One table of the build and how to make it from the tables it reads."""

    name: str  # the table it writes
    inputs: tuple[str, ...]  # the tables it reads (and nothing else)
    build: BuildFunction
    doc: str  # one line: what the table is


@cache
def registry() -> tuple[Step, ...]:
    """Every step of the build; this order breaks ties in :func:`plan`."""
    # imported here: the step modules import Step from this module
    from revloop.model import identity, marts, staging

    return (*staging.STEPS, *identity.STEPS, *marts.STEPS)


def plan(steps: Sequence[Step] | None = None,
         sources: Collection[str] | None = None) -> tuple[Step, ...]:
    """``steps`` (default: the registry) ordered so that every step runs after its inputs.

    Among the steps whose inputs are ready, the one listed first goes first, so the order is
    the same on every run. Raises :class:`PlanError` on a table written by two steps, a step
    writing a source, an input that is neither written by a step nor a source, or a cycle.
    """
    chosen = registry() if steps is None else tuple(steps)
    known = SOURCES if sources is None else frozenset(sources)
    produced = _by_name(chosen, known)
    _check_inputs(chosen, produced, known)
    return _ordered(chosen, known)


def _by_name(steps: Sequence[Step], sources: Collection[str]) -> dict[str, Step]:
    by_name: dict[str, Step] = {}
    for step in steps:
        if step.name in sources:
            raise PlanError(f"step {step.name!r} writes a raw table; only imports write those")
        if step.name in by_name:
            raise PlanError(f"table {step.name!r} is written by two steps; "
                            "every table needs exactly one")
        by_name[step.name] = step
    return by_name


def _check_inputs(steps: Sequence[Step], produced: Mapping[str, Step],
                  sources: Collection[str]) -> None:
    for step in steps:
        unknown = [t for t in step.inputs if t not in produced and t not in sources]
        if unknown:
            names = ", ".join(repr(t) for t in unknown)
            raise PlanError(f"step {step.name!r} reads {names}, which no step writes "
                            "and no import fills")


def _ordered(steps: Sequence[Step], sources: Collection[str]) -> tuple[Step, ...]:
    rank = {step.name: i for i, step in enumerate(steps)}
    sorter: TopologicalSorter[str] = TopologicalSorter(
        {step.name: [t for t in step.inputs if t not in sources] for step in steps}
    )
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = " → ".join(exc.args[1])
        raise PlanError(f"steps read each other in a cycle (each feeds the next): {cycle}"
                        ) from None
    ready = [(rank[name], name) for name in sorter.get_ready()]
    heapq.heapify(ready)
    order: list[Step] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(steps[rank[name]])
        sorter.done(name)
        for nxt in sorter.get_ready():
            heapq.heappush(ready, (rank[nxt], nxt))
    return tuple(order)
