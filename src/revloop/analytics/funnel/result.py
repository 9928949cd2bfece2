"""The typed result of a funnel report, its JSON form and its tables (for export)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa

from revloop.analytics.contract import Result, rows_table


def period_label(day: dt.date, unit: str) -> str:
    """A cohort's name: 2024-W05 (ISO week), 2024-01, 2024-Q1."""
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day:%Y-%m}"


@dataclass
class StageRow:
    """One waterfall stage: how many entered it and what became of them."""

    stage: str
    label: str
    entered: int  # journeys that entered the stage in the range
    observed: int  # … of which the stage was recorded (the rest skipped it)
    next_stage: str | None
    converted: int | None  # … that entered the next stage (within the window)
    conversion_rate: float | None
    won: int  # … that were won (within the won window)
    won_rate: float | None
    open: int  # … still open with this as their furthest stage
    exited: int  # … that left the funnel with this as their furthest stage


@dataclass
class VelocityRow:
    """Days from entering ``stage`` to entering ``to_stage`` (the next one, or won)."""

    stage: str
    to_stage: str
    kind: str  # next | won
    n: int
    mean_days: float | None
    p10_days: float | None
    p25_days: float | None
    median_days: float | None
    p75_days: float | None
    p90_days: float | None


@dataclass
class TimeInStageRow:
    """Open journeys by current stage: how long they have been there (days, at ``as_of``)."""

    stage: str
    open: int
    mean_days: float | None
    p25_days: float | None
    median_days: float | None
    p75_days: float | None
    p90_days: float | None
    stall_threshold_days: float | None  # the stage's velocity percentile (None: no history)
    stalled: int


@dataclass
class StalledEntity:
    """An open journey in its stage for longer than the stage's stall threshold."""

    entity_id: str
    journey_id: str
    stage: str
    since: dt.datetime
    days_in_stage: float
    threshold_days: float
    owner_id: str | None
    owner_name: str | None
    team_id: str | None
    team_name: str | None
    amount: float | None


@dataclass
class CohortRow:
    """Journeys that entered the first stage in one period, and how far they got."""

    cohort: dt.date
    size: int
    reached: dict[str, int]
    rates: dict[str, float | None]


@dataclass
class CutRow:
    """The funnel of the journeys with one value of a dimension, at one stage."""

    dimension: str
    value: str
    label: str | None
    stage: str
    entered: int
    converted: int | None
    conversion_rate: float | None
    won: int
    won_rate: float | None
    median_days_next: float | None
    median_days_won: float | None


@dataclass
class LeakageRow:
    """Exits from the funnel at one stage for one reason."""

    stage: str | None  # furthest stage of the pass that exited (None: before any stage)
    exit: str
    reason: str | None
    events: int  # exits (a recycled-and-returned lead counts every time)
    entities: int  # distinct entities with such an exit
    final: int  # journeys whose final status is this exit


@dataclass
class StatusRow:
    """Revenue-cycle status of one stage or exit: now against one period earlier."""

    name: str
    kind: str  # stage | won | exit
    count_now: int  # stage: open in it at the snapshot; won / exit: in the period
    count_before: int
    amount_now: float | None  # None: amounts left out (currencies that cannot be added)
    amount_before: float | None
    entered_now: int  # stage: entered during the period
    entered_before: int


@dataclass
class StatusSection:
    """Snapshots at ``now`` and ``before`` (one ``period`` apart) with the flows of the
    period ending at each."""

    period: str
    now: dt.datetime
    before: dt.datetime
    previous_start: dt.datetime
    rows: list[StatusRow] = field(default_factory=list)


@dataclass
class PostSaleRow:
    """Renewals, expansions and churn after won."""

    event: str
    events: int
    entities: int
    amount: float | None  # None: amounts left out (currencies that cannot be added)
    rate: float | None  # entities / customers


@dataclass
class WonReversal:
    """A deal its history shows won that is not won now: counted by its current state (lost
    or open), listed here as a movement."""

    opportunity_id: str
    won_at: dt.datetime
    stage_now: str | None
    amount: float | None  # in the corporate currency


@dataclass
class UnmappedValue:
    """A source stage value no map knows (its transitions are not in the funnel)."""

    entity_type: str
    value: str
    rows: int


@dataclass
class FunnelResult(Result):
    """Everything one funnel report computed."""

    level: str
    reentry: str
    as_of: dt.datetime
    start: dt.datetime | None
    end: dt.datetime | None
    cohort_unit: str
    window_days: float | None
    won_window_days: float | None
    stall_percentile: int
    stages: list[str]
    labels: dict[str, str]
    journeys: int
    entities: int
    funnel: list[StageRow]
    velocity: list[VelocityRow]
    time_in_stage: list[TimeInStageRow]
    stalled: list[StalledEntity]
    stalled_total: int
    cohorts: list[CohortRow]
    cuts: dict[str, list[CutRow]]
    leakage: list[LeakageRow]
    status: StatusSection
    post_sale: list[PostSaleRow]
    customers: int
    unmapped: list[UnmappedValue]
    timings: dict[str, float] = field(default_factory=dict)
    currency: str | None = None  # every amount is in this currency (None: none named)
    money_note: str = ""  # what was converted into it, and how
    won_reversals: list[WonReversal] = field(default_factory=list)

    def stage(self, name: str) -> StageRow:
        """The funnel row of stage ``name``."""
        for row in self.funnel:
            if row.stage == name:
                return row
        raise KeyError(name)

    def velocity_of(self, stage: str, kind: str = "next") -> VelocityRow | None:
        """The velocity row from ``stage`` to the next stage (``kind='next'``) or to won."""
        return next((v for v in self.velocity if v.stage == stage and v.kind == kind), None)

    def cut(self, dimension: str, stage: str) -> dict[str, CutRow]:
        """Cut rows of ``dimension`` at ``stage``, by value."""
        return {r.value: r for r in self.cuts.get(dimension, []) if r.stage == stage}

    def tables(self) -> dict[str, pa.Table]:
        """One Arrow table per section (the export writes one file each)."""
        out: dict[str, pa.Table] = {
            "funnel": rows_table(self.funnel, StageRow),
            "velocity": rows_table(self.velocity, VelocityRow),
            "time_in_stage": rows_table(self.time_in_stage, TimeInStageRow),
            "stalled": rows_table(self.stalled, StalledEntity),
            "leakage": rows_table(self.leakage, LeakageRow),
            "status": rows_table(self.status.rows, StatusRow),
            "post_sale": rows_table(self.post_sale, PostSaleRow),
            "unmapped": rows_table(self.unmapped, UnmappedValue),
        }
        cohort_rows = [{"cohort": c.cohort, "size": c.size,
                        **{f"reached_{s}": c.reached.get(s, 0) for s in self.stages},
                        **{f"rate_{s}": c.rates.get(s) for s in self.stages}}
                       for c in self.cohorts]
        out["cohorts"] = pa.Table.from_pylist(cohort_rows) if cohort_rows else pa.table(
            {"cohort": pa.array([], pa.date32()), "size": pa.array([], pa.int64())})
        cut_rows = [r for rows in self.cuts.values() for r in rows]
        if self.cuts:
            out["cuts"] = rows_table(cut_rows, CutRow)
        return out
