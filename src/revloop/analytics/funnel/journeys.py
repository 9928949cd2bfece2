"""From the event log to one row per journey: when it entered each stage, where it is now.

Conventions (docs/funnel.md explains them with examples):

* **Order is time.** Events are ordered by ``occurred_at`` only; ``from_stage`` is not used.
  At an equal instant a stage comes before an exit (the entity reached the stage, then left),
  and two exits of one member at one instant count once (the first listed in ``exits``).
* **Passes.** Every exit ends a member's pass; the next stage event starts a new one. So a
  recycled lead that comes back to MQL is on its second pass.
* **Waterfall.** Within a journey, the time a stage was entered is the earliest time the
  journey reached that stage *or any later one*: reaching a later stage implies passing the
  earlier ones (at the same instant when they were skipped), and an earlier stage recorded
  after a later one (out of order) is absorbed. Entry times therefore never decrease along the
  waterfall, and a skipped stage has a velocity of zero.
* **Journeys.** With ``reentry='first'`` a journey is the entity (all its passes and, for an
  account, all its members' passes together): it is counted once per stage, from the first
  time it got there. With ``reentry='cycle'`` each pass of a lead or opportunity is its own
  journey.
* **Status.** A journey is *won* once it entered the last stage; *open* if one of its members'
  latest passes is still running (not exited); otherwise *exited*. Its exit is the one that
  ended the member pass that got furthest (then the latest such exit). An open journey's
  current stage is the furthest stage of its running passes, entered when the first of them
  got there.

Passes are computed once (:func:`member_passes`, cached by the runner); :func:`passes_at`
reads them as of any earlier instant without going back to the events — a pass's first time at
a stage is the same whenever it is read, as long as it is not after the instant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from revloop.analytics.funnel.stages import StageDefinitions
from revloop.store.queries import epoch_seconds

MEMBER = ("entity_id", "member_type", "member_id")
FAR = dt.datetime(9999, 12, 31)
EARLY = dt.datetime(1, 1, 1)
# Lexicographic (stage rank, time) pairs packed in one double so one MAX picks both without a
# window: rank · 10¹⁰ + (epoch seconds + 5·10⁹). Exact integers below 2⁵³ on every engine for
# ranks below 900,000 and times from 1811 to 2128.
_SLOT = 10_000_000_000.0
_OFFSET = 5_000_000_000.0


def reach_col(stage: str) -> str:
    """Column: the first time the journey's own events recorded ``stage``."""
    return f"reach_{stage}"


def entered_col(stage: str) -> str:
    """Column: when the journey entered ``stage`` (waterfall convention)."""
    return f"entered_{stage}"


def sec_col(stage: str) -> str:
    """Column: ``entered_<stage>`` as epoch seconds (whole seconds)."""
    return f"sec_{stage}"


def member_passes(events: Any, defs: StageDefinitions) -> Any:
    """One row per member pass: its first time at each stage and the exit that ended it.

    Columns: ``entity_id, member_type, member_id, pass_no, reach_<stage>…, exit_name,
    exit_reason, exit_at, last_pass``. A pass without stage events (an exit with nothing
    before it) has every reach empty.
    """
    keys = list(MEMBER)
    ts = events.occurred_at.type()  # e.g. timestamp(6) once cached: literals must match
    # one exit per member and instant: the first listed in `exits`
    ex = events.filter(events.kind == "exit")
    same = ibis.window(group_by=[ex[c] for c in (*keys, "occurred_at")],
                       order_by=[ex.exit_order, ex.reason])
    ex = ex.mutate(_k=ibis.row_number().over(same))
    ex = ex.filter(ex._k == 0)
    # exit k ends pass k, which holds the stage events after exit k-1 up to exit k inclusive
    # (a stage at the same instant as an exit happened before it)
    order = ibis.window(group_by=[ex[c] for c in keys], order_by=[ex.occurred_at])
    # open interval ends are far-away instants rather than NULLs: an OR in the join condition
    # would turn the hash join into a nested loop
    ex = ex.mutate(k=ibis.row_number().over(order).cast("int64"),
                   lo=ibis.coalesce(ex.occurred_at.lag().over(order),
                                    ibis.literal(EARLY).cast(ts)))
    closed = ex.select(*keys, "k", "lo", hi=ex.occurred_at, exit_name=ex.name,
                       exit_reason=ex.reason)
    last = ex.group_by(keys).agg(k=ex.k.max() + 1, lo=ex.occurred_at.max())
    last = last.mutate(hi=ibis.literal(FAR).cast(ts), exit_name=ibis.null("string"),
                       exit_reason=ibis.null("string"))
    intervals = ibis.union(closed, last.select(*closed.columns), distinct=False)
    iv = intervals.rename({f"i_{c}": c for c in (*keys, "k", "lo", "hi")})
    st = events.filter(events.kind == "stage")
    joined = st.left_join(iv, [
        st.entity_id == iv.i_entity_id, st.member_type == iv.i_member_type,
        st.member_id == iv.i_member_id,
        iv.i_lo < st.occurred_at, st.occurred_at <= iv.i_hi])
    joined = joined.mutate(pass_no=ibis.coalesce(joined.i_k, 0))
    reaches = {reach_col(s): joined.occurred_at.min(where=joined["rank"] == i)
               for i, s in enumerate(defs.stages)}
    staged = joined.group_by([*keys, "pass_no"]).agg(**reaches)
    ends = closed.select(x_entity_id=closed.entity_id, x_member_type=closed.member_type,
                         x_member_id=closed.member_id, x_pass=closed.k,
                         exit_name=closed.exit_name, exit_reason=closed.exit_reason,
                         exit_at=closed.hi)
    p = staged.outer_join(ends, [staged.entity_id == ends.x_entity_id,
                                 staged.member_type == ends.x_member_type,
                                 staged.member_id == ends.x_member_id,
                                 staged.pass_no == ends.x_pass])
    p = p.select(
        entity_id=ibis.coalesce(p.entity_id, p.x_entity_id),
        member_type=ibis.coalesce(p.member_type, p.x_member_type),
        member_id=ibis.coalesce(p.member_id, p.x_member_id),
        pass_no=ibis.coalesce(p.pass_no, p.x_pass).cast("int64"),
        **{reach_col(s): p[reach_col(s)] for s in defs.stages},
        exit_name=p.exit_name, exit_reason=p.exit_reason, exit_at=p.exit_at,
    )
    return _with_last_pass(p)


def _with_last_pass(p: Any) -> Any:
    """``p`` with ``last_pass``: the member's highest pass number (a window: Ibis cannot
    join a relation built on a join with an aggregate of itself)."""
    member = ibis.window(group_by=[p[c] for c in MEMBER])
    return p.mutate(last_pass=p.pass_no.max().over(member))


def member_amounts(events: Any) -> Any:
    """Each member's latest recorded amount (the larger one at equal instants)."""
    a = events.filter(events.amount.notnull())
    w = ibis.window(group_by=[a[c] for c in MEMBER],
                    order_by=[ibis.desc(a.occurred_at), ibis.desc(a.amount)])
    a = a.mutate(_k=ibis.row_number().over(w))
    return a.filter(a._k == 0).select(a_entity=a.entity_id, a_type=a.member_type,
                                      a_member=a.member_id, amount=a.amount)


RAW = ("pass_no", "exit_name", "exit_reason", "exit_at", "last_pass")


def passes_at(passes: Any, defs: StageDefinitions, at: dt.datetime | None,
              amounts: Any) -> Any:
    """The passes as they stood at ``at`` (None: as they are), with ``furthest``,
    ``furthest_at``, ``latest``, ``won``, ``live`` and the member's ``amount``.

    ``passes`` comes from :func:`member_passes` or from an earlier call of this function.
    """
    p = passes.select(*MEMBER, *RAW, *[reach_col(s) for s in defs.stages])
    if at is not None:
        t = ibis.literal(at)
        cut = {reach_col(s): ibis.ifelse(p[reach_col(s)] <= t, p[reach_col(s)],
                                         ibis.null("timestamp")) for s in defs.stages}
        gone = p.exit_at.notnull() & (p.exit_at <= t)
        p = p.mutate(**cut, exit_name=ibis.ifelse(gone, p.exit_name, ibis.null("string")),
                     exit_reason=ibis.ifelse(gone, p.exit_reason, ibis.null("string")),
                     exit_at=ibis.ifelse(gone, p.exit_at, ibis.null("timestamp")))
        seen = p.exit_at.notnull()
        for s in defs.stages:
            seen = seen | p[reach_col(s)].notnull()
        p = _with_last_pass(p.filter(seen))
    ranked = list(enumerate(defs.stages))[::-1]
    p = p.mutate(
        furthest=ibis.cases(*[(p[reach_col(s)].notnull(), i) for i, s in ranked],
                            else_=ibis.null("int64")).cast("int64"),
        furthest_at=ibis.cases(*[(p[reach_col(s)].notnull(), p[reach_col(s)])
                                 for _, s in ranked], else_=ibis.null("timestamp")),
    )
    p = p.mutate(latest=p.pass_no == p.last_pass, won=p[reach_col(defs.won)].notnull())
    p = p.mutate(live=p.latest & p.exit_name.isnull() & p.furthest.notnull() & ~p.won)
    p = p.left_join(amounts, [p.entity_id == amounts.a_entity,
                              p.member_type == amounts.a_type, p.member_id == amounts.a_member])
    return p.drop("a_entity", "a_type", "a_member")


def journeys(passes: Any, defs: StageDefinitions, reentry: str) -> Any:
    """One row per journey (from :func:`passes_at`) with entries, status, current stage,
    exit and amounts."""
    p = passes
    cycle = reentry == "cycle"
    groups = ["entity_id", "pass_no"] if cycle else ["entity_id"]
    # live passes: the furthest stage, then the earliest arrival there
    live_key = ibis.ifelse(p.live, p.furthest.cast("float64") * _SLOT
                           + (_OFFSET - epoch_seconds(p.furthest_at)), ibis.null("float64"))
    # exits ending a member's latest pass: the furthest one, then the latest
    candidate = p.latest & p.exit_name.notnull()
    exit_key = ibis.ifelse(candidate, (ibis.coalesce(p.furthest, -1) + 1).cast("float64")
                           * _SLOT + (epoch_seconds(p.exit_at) + _OFFSET), ibis.null("float64"))
    p = p.mutate(_live_key=live_key, _exit_key=exit_key)
    reaches = {reach_col(s): p[reach_col(s)].min() for s in defs.stages}
    j = p.group_by(groups).agg(
        **reaches,
        n_live=ibis.ifelse(p.live, 1, 0).sum(),
        current_rank=p.furthest.max(where=p.live),
        live_key=p._live_key.max(),
        exit_key=p._exit_key.max(),
        open_amount=p.amount.sum(where=p.live),
        won_amount=p.amount.sum(where=p.won),
        lost_amount=p.amount.sum(where=candidate & ~p.won),
    )
    # the exit's name and reason: join back the pass(es) holding the chosen key
    x = p.filter(p._exit_key.notnull())
    xg = x.group_by([x[g].name(f"x_{g}") for g in groups] + [x._exit_key.name("x_key")]).agg(
        exit_name=x.exit_name.min(), exit_reason=x.exit_reason.min(), exit_at=x.exit_at.max())
    j = j.left_join(xg, [j[g] == xg[f"x_{g}"] for g in groups] + [j.exit_key == xg.x_key])
    j = j.drop(*[f"x_{g}" for g in groups], "x_key")
    if cycle:
        j = j.mutate(journey_id=j.entity_id.concat("#", j.pass_no.cast("string")))
    else:
        j = j.mutate(journey_id=j.entity_id, pass_no=ibis.literal(0).cast("int64"))
    # waterfall: entry into a stage = earliest reach of it or of any later stage
    far = ibis.literal(FAR)
    entries: dict[str, Any] = {}
    for i, s in enumerate(defs.stages):
        later = [ibis.coalesce(j[reach_col(t)], far) for t in defs.stages[i:]]
        m = ibis.least(*later) if len(later) > 1 else later[0]
        entries[entered_col(s)] = ibis.ifelse(m == far, ibis.null("timestamp"), m)
    j = j.mutate(**entries)
    ranked = list(enumerate(defs.stages))[::-1]
    won_col = j[entered_col(defs.won)]
    since_sec = _OFFSET - (j.live_key - j.current_rank.cast("float64") * _SLOT)
    j = j.mutate(
        **{sec_col(s): epoch_seconds(j[entered_col(s)]) for s in defs.stages},
        first_at=j[entered_col(defs.stages[0])],
        furthest_rank=ibis.cases(*[(j[entered_col(s)].notnull(), i) for i, s in ranked],
                                 else_=ibis.null("int64")).cast("int64"),
        status=ibis.cases((won_col.notnull(), "won"), (j.n_live > 0, "open"),
                          else_="exited"),
        since_sec=since_sec,
    )
    return j.filter(j.first_at.notnull()).drop("live_key", "exit_key")
