"""The funnel runner: a :class:`FunnelRequest` in, a :class:`FunnelResult` out.

The event log is reduced on the engine to member passes and journeys, both cached (a
temporary table on DuckDB and PostgreSQL, a cached DataFrame on Spark) for the time of the
report; every metric is then one query over them. Nothing is written to the store.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import Any

import ibis

from revloop.analytics.funnel import metrics
from revloop.analytics.funnel.dimensions import NONE, dimension_table
from revloop.analytics.funnel.events import (
    check_marts,
    level_events,
    source_values,
    won_reversals,
)
from revloop.analytics.funnel.journeys import (
    journeys,
    member_amounts,
    member_passes,
    passes_at,
)
from revloop.analytics.funnel.percentiles import pcol
from revloop.analytics.funnel.request import FunnelRequest, FunnelRequestError, Period
from revloop.analytics.funnel.result import (
    FunnelResult,
    PostSaleRow,
    StatusSection,
    UnmappedValue,
)
from revloop.analytics.funnel.stages import StageDefinitions
from revloop.analytics.money import counts_only_if_mixed
from revloop.store import Store

StepHook = Callable[[str], None]


def shift_back(t: dt.datetime, period: Period, times: int = 1) -> dt.datetime:
    """``t`` minus ``times`` weeks / calendar months / quarters (day clamped to the month)."""
    if period == "week":
        return t - dt.timedelta(days=7 * times)
    months = times * (3 if period == "quarter" else 1)
    index = t.year * 12 + (t.month - 1) - months
    year, month = divmod(index, 12)
    day = min(t.day, calendar.monthrange(year, month + 1)[1])
    return t.replace(year=year, month=month + 1, day=day)


class FunnelReport:
    """Computes funnel reports on a store with fixed stage definitions.

    ``segments`` are the account size bands (name → lowest employee count);
    ``people_with_deals`` makes a person's opportunities count for the person at lead level.
    """

    def __init__(self, definitions: StageDefinitions, *,
                 segments: Mapping[str, int] | None = None,
                 people_with_deals: bool = False) -> None:
        self.definitions = definitions
        self.segments = dict(segments or {"smb": 0, "mid_market": 100, "enterprise": 1000})
        self.people_with_deals = people_with_deals

    def run(self, store: Store, request: FunnelRequest,
            step: StepHook | None = None) -> FunnelResult:
        """Compute every section of the report for ``request``."""
        report = step or (lambda _name: None)
        timings: dict[str, float] = {}
        defs = self.definitions
        cached: list[Any] = []

        @contextmanager
        def timed(name: str) -> Iterator[None]:
            report(name)
            started = time.perf_counter()
            yield
            timings[name] = round(time.perf_counter() - started, 4)

        try:
            with timed("events"):
                check_marts(store)
                # amounts in several currencies that cannot be converted are never added: the
                # counts stand, the amounts are left out and the note says why
                money = counts_only_if_mixed(store)
                values = source_values(store, defs)
                reversals = won_reversals(store, defs, values, amounts=money.adds_amounts)
                events = level_events(store, request.level, defs, values,
                                      people_with_deals=self.people_with_deals,
                                      amounts=money.adds_amounts)
                # always queried: besides the default "now", this first execution registers the
                # in-memory value map with the engine (Ibis' cache() on PySpark does not)
                latest = _latest(events)
                as_of = request.as_of or latest
                if latest is None or as_of is None:
                    raise FunnelRequestError(_no_events_message(request.level, values))
                as_of = as_of.replace(microsecond=0)
                # read by the passes, the amounts, post-sale and the earlier status: once
                ev = events.filter(events.occurred_at <= as_of).cache()
                cached.append(ev)
            with timed("passes"):
                passes = passes_at(member_passes(ev, defs), defs, None,
                                   member_amounts(ev)).cache()
                cached.append(passes)
            with timed("journeys"):
                dims = dimension_table(store, request.level, request.by, self.segments)
                dims = dims.rename(dim_entity="entity_id")
                j = journeys(passes, defs, request.reentry)
                j = j.left_join(dims, j.entity_id == dims.dim_entity).drop("dim_entity")
                # journeys of entities the dimension table does not know (orphan transitions)
                j = j.mutate(**{c: ibis.coalesce(j[c], NONE) for c in j.columns
                                if c.startswith("d_") and not c.endswith("__label")})
                j = j.cache()
                cached.append(j)
            with timed("active"):
                active, n_journeys, n_entities = metrics.active_stages(
                    j, defs, request.all_stages)
            frame = metrics.Frame(
                defs=defs, active=active, start=request.start, end=request.end, as_of=as_of,
                window_days=request.window_days, won_window_days=request.won_window_days)
            with timed("funnel"):
                funnel_rows = metrics.funnel(j, frame)
            with timed("velocity"):
                velocity_rows, pct = metrics.velocity(j, frame, [request.stall_percentile])
                thresholds: dict[str, float | None] = {}
                for s in active[:-1]:
                    r = pct.get((s, "next"))
                    thresholds[s] = (None if r is None or r[pcol(request.stall_percentile)]
                                     is None else float(r[pcol(request.stall_percentile)]) / 100)
            with timed("time_in_stage"):
                tis = metrics.time_in_stage(j, frame, thresholds)
                stalled = metrics.stalled(j, frame, thresholds, request.stalled_limit)
            with timed("cohorts"):
                cohort_rows = metrics.cohorts(j, frame, request.cohort)
            cuts = {}
            for d in request.by:
                with timed(f"cut:{d}"):
                    cuts[d] = metrics.cut(j, frame, d)
            with timed("leakage"):
                leak = metrics.leakage(passes, j, frame)
            with timed("post_sale"):
                post, customers = metrics.post_sale(ev, j, frame)
                if request.level == "opportunity":
                    # a renewal or expansion is a deal of its own, not an event of the won one
                    for row in post:
                        row.rate = None
            with timed("status"):
                status = self._status(passes, ev, defs, request, frame, j, as_of)
            if not money.adds_amounts:  # sums of nothing are not zero amounts
                status, post = _without_amounts(status, post)
        finally:
            for t in cached:
                _release(t)
        return FunnelResult(
            level=request.level, reentry=request.reentry, as_of=as_of, start=request.start,
            end=request.end, cohort_unit=request.cohort, window_days=request.window_days,
            won_window_days=request.won_window_days,
            stall_percentile=request.stall_percentile, stages=list(active),
            labels={n: defs.label(n) for n in (*defs.stages, *defs.exits, *defs.post_sale)},
            journeys=n_journeys, entities=n_entities, funnel=funnel_rows,
            velocity=velocity_rows, time_in_stage=tis, stalled=stalled,
            stalled_total=sum(r.stalled for r in tis), cohorts=cohort_rows, cuts=cuts,
            leakage=leak, status=status, post_sale=post, customers=customers,
            unmapped=[UnmappedValue(v.entity_type, v.value, v.rows) for v in values
                      if not v.mapped],
            timings=timings, currency=money.currency, money_note=money.describe(),
            won_reversals=reversals,
        )

    def _status(self, passes: Any, events: Any, defs: StageDefinitions, request: FunnelRequest,
                frame: metrics.Frame, j: Any, as_of: dt.datetime) -> StatusSection:
        """The snapshot at ``as_of`` against the one a period earlier (as known then)."""
        before = shift_back(as_of, request.compare)
        previous_start = shift_back(as_of, request.compare, 2)
        now = metrics.status_counts(j, frame, before, as_of)
        # A journey none of whose events is later than `before` stood then as it stands now;
        # only the others are rebuilt as of `before` (typically a small share).
        moved = events.filter(events.occurred_at > ibis.literal(before)).select(
            m_entity=events.entity_id).distinct()
        kept = j.anti_join(moved, j.entity_id == moved.m_entity)
        earlier = events.filter(events.occurred_at <= ibis.literal(before))
        earlier = earlier.semi_join(moved, earlier.entity_id == moved.m_entity)
        again = passes.semi_join(moved, passes.entity_id == moved.m_entity)
        rebuilt = journeys(passes_at(again, defs, before, member_amounts(earlier)), defs,
                           request.reentry)
        cols = metrics.status_columns(frame)
        types = kept.schema()
        prev_j = ibis.union(kept.select(*cols),
                            rebuilt.select(*[rebuilt[c].cast(types[c]).name(c) for c in cols]),
                            distinct=False)
        then = metrics.status_counts(prev_j, frame, previous_start, before)
        return StatusSection(period=request.compare, now=as_of, before=before,
                             previous_start=previous_start,
                             rows=metrics.status_rows(now, then, frame))


def _latest(events: Any) -> dt.datetime | None:
    value = events.occurred_at.max().to_pyarrow().as_py()
    return value if isinstance(value, dt.datetime) else None


def _release(table: Any) -> None:
    # releasing a cache must never hide the error that ended the report
    with suppress(Exception):
        table.release()


def _no_events_message(level: str, values: list[Any]) -> str:
    unmapped = [f"{v.entity_type}:{v.value}" for v in values if not v.mapped][:8]
    hint = (f"; these source values are not mapped: {', '.join(unmapped)} — add them to "
            "[funnel.values] in revloop.toml" if unmapped else
            "; import stage history and run `revloop build`")
    return f"no stage transitions map to the funnel at the {level} level{hint}"


def _without_amounts(status: StatusSection, post: list[PostSaleRow]
                     ) -> tuple[StatusSection, list[PostSaleRow]]:
    """The status and post-sale rows with their amounts None: counts only."""
    rows = [replace(r, amount_now=None, amount_before=None) for r in status.rows]
    return replace(status, rows=rows), [replace(p, amount=None) for p in post]
