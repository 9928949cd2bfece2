"""The model build: raw tables → staging → intermediate → marts, as Ibis expressions.

The same expressions run on DuckDB, PostgreSQL and Spark and give identical marts. The build
is a set of small named steps (:mod:`revloop.model.steps`), each writing one table from the
tables it declares; :func:`build` runs them in the order their inputs dictate and materialises
every one (``store.replace_table``), so later steps and analytics read tables, not ever-deeper
views, and each table is replaced atomically. Where each job lives:

* :mod:`revloop.model.staging` — ``stg_<entity>`` from ``raw_<entity>``;
* :mod:`revloop.model.identity` — identity resolution (``int_*`` tables): converted leads,
  e-mail merges, account matching by e-mail domain, anonymous-id stitching;
* :mod:`revloop.model.marts` — the marts analytics read.
"""

from __future__ import annotations

from collections.abc import Callable

from revloop.model import history, incremental, tables
from revloop.model.steps import BuildOptions, plan
from revloop.schema import ENTITIES
from revloop.store.base import Store

__all__ = ["MART_KEYS", "BuildOptions", "StepHook", "build"]

#: Called with the name of each step (the table it writes) before it runs.
StepHook = Callable[[str], None]

#: The key of every mart (what makes a row unique).
MART_KEYS: dict[str, tuple[str, ...]] = {
    **{e.name: e.key for e in ENTITIES},
    tables.OPPORTUNITY_ENHANCED: ("opportunity_id",),
    tables.DATA_ISSUES: ("entity", "entity_key", "column_name"),
}

# The order the build has always reported row counts in (the CLI prints them so): the marts
# identity resolution rewrites, then every other mart in the order of tables.MARTS.
_REPORTED_FIRST = (tables.ACCOUNTS, tables.CONTACTS, tables.TOUCHPOINTS,
                   tables.STAGE_TRANSITIONS, tables.OPPORTUNITY_CONTACTS,
                   tables.CAMPAIGN_MEMBERS)
COUNT_ORDER: tuple[str, ...] = (
    *_REPORTED_FIRST, *(m for m in tables.MARTS if m not in _REPORTED_FIRST))


def build(store: Store, options: BuildOptions | None = None,
          step: StepHook | None = None, *, full: bool = False) -> dict[str, int]:
    """Run the steps of the build whose inputs changed since the last complete build (every
    step with ``full``; see :mod:`revloop.model.incremental`); return the row count of every
    mart.

    The build is atomic: every table is built as a new version and all of them are put in
    force together at the end, so a reader never sees new marts beside old ones, and an
    interrupted build leaves the previous marts in force (the next build says so). One build
    at a time runs on a store, and imports wait for it (and it for them).
    ``step`` is called with each step's name before it runs (progress for the CLI); the
    store's notice says what an incremental build rebuilt.
    """
    opts = options or BuildOptions()
    report = step or (lambda _name: None)
    raw = [tables.raw(e.name) for e in ENTITIES]
    with store.lock([tables.BUILD_LOCK], shared=raw, purpose="build"):
        todo = incremental.plan_build(store, plan(), opts, full=full)
        if not todo.full:
            store.on_notice(f"incremental build: {len(todo.steps)} of {todo.total} tables "
                            f"rebuilt ({todo.reason}); `revloop build --full` rebuilds all")
        history.start(store)
        with store.generation() as gen:
            for s in todo.steps:
                report(s.name)
                gen.replace_table(s.name, s.build({n: gen.table(n) for n in s.inputs}, opts))
            counts = {name: int(gen.table(name).count().execute()) for name in COUNT_ORDER}
        history.finish(store, counts)
        incremental.record(store, opts)
    return counts
