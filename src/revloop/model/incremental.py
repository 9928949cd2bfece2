"""Incremental builds: only the steps whose inputs changed since the last complete build.

A complete build records in ``store_meta`` (key ``last_build``) the imports whose rows its
marts hold and a fingerprint of what else decides the marts (the build options, revloop's
version and the store's schema version). The next build reads the ``imports`` log: a raw
table is *changed* when an import it has not seen stored (inserted or updated) rows into it.
A step runs when one of its inputs changed, directly or through a step that runs, or when
its table is missing; the other tables stay as they are, in force. Anything the record does
not cover — no record, another fingerprint — rebuilds everything.

Imports write their log row in the transaction that writes their rows, and the build reads
the log under its shared locks on the raw tables, so no change can slip between the two.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import revloop
from revloop.model import tables
from revloop.model.steps import BuildOptions, Step
from revloop.store import versions
from revloop.store.base import Store

META_KEY = "last_build"


@dataclass(frozen=True)
class BuildPlan:
    """The steps a build runs and why."""

    steps: tuple[Step, ...]  # in build order
    total: int  # steps in a full build
    changed: tuple[str, ...]  # raw tables changed since the last build (full: ())
    full: bool  # every step runs
    reason: str  # why this plan, in one line


def fingerprint(options: BuildOptions) -> str:
    """What decides the marts besides the raw rows."""
    basis = {"options": asdict(options), "revloop": revloop.__version__,
             "schema": versions.SCHEMA_VERSION}
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=list).encode()).hexdigest()


def _imports(store: Store) -> dict[str, set[str]]:
    """Every logged import → the raw tables it stored rows into (the files of one command
    share its import id and log a row each)."""
    rows = store.table("imports").select("import_id", "entities").to_pyarrow().to_pylist()
    out: dict[str, set[str]] = {}
    for r in rows:
        counts = json.loads(r["entities"] or "{}")
        out.setdefault(str(r["import_id"]), set()).update(
            tables.raw(e) for e, c in counts.items() if int(c.get("stored", 0) or 0) > 0)
    return out


def plan_build(store: Store, steps: Sequence[Step], options: BuildOptions, *,
               full: bool = False) -> BuildPlan:
    """The steps to run: all of them (``full``, or nothing recorded to compare with), else
    those downstream of a raw table changed since the last complete build."""
    every = tuple(steps)
    if full:
        return BuildPlan(every, len(every), (), True, "a full build was asked for")
    recorded = versions.meta_value(store, META_KEY)
    last = json.loads(recorded) if recorded else None
    if not last:
        return BuildPlan(every, len(every), (), True, "no earlier build to start from")
    if last.get("fingerprint") != fingerprint(options):
        return BuildPlan(every, len(every), (), True,
                         "the build settings or revloop's version changed since the last build")
    seen = set(last.get("imports", []))
    changed = sorted({t for imp, written in _imports(store).items() if imp not in seen
                      for t in written})
    present = set(store.list_tables())
    dirty = set(changed)
    run: list[Step] = []
    for step in every:
        if step.name not in present or any(i in dirty for i in step.inputs):
            run.append(step)
            dirty.add(step.name)
    full_run = len(run) == len(every)
    reason = ("nothing changed since the last build" if not run else
              f"changed since the last build: {', '.join(t.removeprefix('raw_') for t in changed)}"
              if changed else "tables missing from the store")
    return BuildPlan(tuple(run), len(every), tuple(changed), full_run, reason)


def record(store: Store, options: BuildOptions) -> None:
    """Remember what the marts now in force were built from (after a complete build)."""
    value = json.dumps({"fingerprint": fingerprint(options),
                        "imports": sorted(_imports(store))})
    versions.record_meta(store, {META_KEY: value})
