"""An independent, plain-Python funnel over the hand-built world's CSV text.

It reads the files with the csv module (not the store), walks each member's events in time
order, and applies the documented conventions one journey at a time, with NumPy's own
percentiles. The engine's results are checked against it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.analytics.funnel import world

STAGES = ["inquiry", "mql", "sal", "sql", "opportunity", "won"]
EXITS = ["lost", "disqualified", "recycled"]
POST = ["renewal", "expansion", "churn"]
MAP = {
    "inquiry": "inquiry", "mql": "mql", "sal": "sal", "sql": "sql",
    "opportunity": "opportunity", "customer": "won", "recycled": "recycled",
    "disqualified": "disqualified", "qualification": "opportunity",
    "discovery": "opportunity", "negotiation": "opportunity", "closed_won": "won",
    "closed_lost": "lost", "churned": "churn",
}
WON = len(STAGES) - 1
DAY = 86400.0


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def ts(value: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


@dataclass
class Event:
    entity: str
    member: tuple[str, str]
    name: str
    at: dt.datetime
    reason: str | None
    amount: float | None

    @property
    def kind(self) -> str:
        if self.name in STAGES:
            return "stage"
        return "exit" if self.name in EXITS else "post"


@dataclass
class Pass:
    member: tuple[str, str]
    number: int
    reach: dict[int, dt.datetime] = field(default_factory=dict)
    exit: Event | None = None
    amount: float | None = None

    @property
    def furthest(self) -> int | None:
        return max(self.reach) if self.reach else None

    @property
    def won(self) -> bool:
        return WON in self.reach


@dataclass
class Journey:
    jid: str
    entity: str
    passes: list[Pass]
    latest: set[int]  # ids of passes that are their member's last
    entries: list[dt.datetime | None]
    status: str
    current: int | None
    since: dt.datetime | None
    exit: Event | None
    furthest: int | None
    open_amount: float
    won_amount: float
    lost_amount: float

    def reached(self, i: int) -> bool:
        return self.entries[i] is not None


# Written as plainly as possible, apart from the code it checks: complexity is accepted.
def events(level: str, people_with_deals: bool = False) -> list[Event]:  # noqa: C901
    """The level's mapped events (all times)."""
    contacts = {r["contact_id"]: r for r in rows(world.CONTACTS)}
    opps = {r["opportunity_id"]: r for r in rows(world.OPPORTUNITIES)}
    out: list[Event] = []
    for r in rows(world.TRANSITIONS):
        name = MAP.get(r["to_stage"].strip().lower())
        if name is None:
            continue
        at = ts(r["occurred_at"])
        assert at is not None
        amount = float(r["amount"]) if r["amount"] else None
        etype, eid = r["entity_type"], r["entity_id"]
        reason = r["reason"] or None
        if etype == "opportunity":
            opp = opps.get(eid, {"amount": "", "opportunity_type": "", "account_id": ""})
            if amount is None and opp["amount"]:
                amount = float(opp["amount"])
            if opp["opportunity_type"] in ("renewal", "expansion"):
                if name != "won":
                    continue
                name = opp["opportunity_type"]
        if level == "lead" and etype == "lead":
            out.append(Event(eid, ("person", eid), name, at, reason, amount))
        elif level == "lead" and etype == "opportunity" and people_with_deals:
            people = {x["contact_id"] for x in rows(world.ROLES) if x["opportunity_id"] == eid}
            for person in people:
                out.append(Event(person, ("opportunity", eid), name, at, reason, amount))
        elif level == "account":
            if etype == "lead" and contacts[eid]["account_id"]:
                out.append(Event(contacts[eid]["account_id"], ("person", eid), name, at,
                                 reason, amount))
            elif etype == "opportunity" and opp["account_id"]:
                out.append(Event(opp["account_id"], ("opportunity", eid), name, at, reason,
                                 amount))
            elif etype == "account":
                out.append(Event(eid, ("account", eid), name, at, reason, amount))
        elif level == "opportunity" and etype == "opportunity":
            out.append(Event(eid, ("opportunity", eid), name, at, reason, amount))
    return out


# Written as plainly as possible, apart from the code it checks: complexity is accepted.
def passes_by_member(  # noqa: C901
        evs: list[Event]) -> dict[tuple[str, tuple[str, str]], list[Pass]]:
    """Walk each member's events in time order (stages before exits at one instant)."""
    by: dict[tuple[str, tuple[str, str]], list[Event]] = defaultdict(list)
    for e in evs:
        if e.kind != "post":
            by[(e.entity, e.member)].append(e)
    out = {}
    for key, es in by.items():
        es.sort(key=lambda e: (e.at, 0 if e.kind == "stage" else 1,
                               EXITS.index(e.name) if e.kind == "exit" else 0))
        passes = [Pass(key[1], 0)]
        last_exit_at = None
        for e in es:
            current = passes[-1]
            if e.kind == "exit":
                if e.at == last_exit_at:
                    continue  # a second exit at the same instant: the first listed won
                last_exit_at = e.at
                if current.exit is not None:
                    passes.append(Pass(key[1], current.number + 1))
                    current = passes[-1]
                current.exit = e
            else:
                if current.exit is not None:
                    passes.append(Pass(key[1], current.number + 1))
                    current = passes[-1]
                rank = STAGES.index(e.name)
                if rank not in current.reach or e.at < current.reach[rank]:
                    current.reach[rank] = e.at
        amounts = sorted((e.at, e.amount) for e in es if e.amount is not None)
        member_amount = amounts[-1][1] if amounts else None
        for p in passes:
            p.amount = member_amount
        out[key] = passes
    return out


def build_journeys(evs: list[Event], reentry: str = "first") -> dict[str, Journey]:
    members = passes_by_member(evs)
    groups: dict[str, list[tuple[Pass, bool, str]]] = defaultdict(list)
    for (entity, _member), passes in members.items():
        for p in passes:
            latest = p is passes[-1]
            jid = f"{entity}#{p.number}" if reentry == "cycle" else entity
            groups[jid].append((p, latest, entity))
    out = {}
    for jid, items in groups.items():
        reach: dict[int, dt.datetime] = {}
        for p, _, _ in items:
            for r, at in p.reach.items():
                reach[r] = min(at, reach.get(r, at))
        entries: list[dt.datetime | None] = []
        for i in range(len(STAGES)):
            later = [reach[r] for r in reach if r >= i]
            entries.append(min(later) if later else None)
        if entries[0] is None:
            continue
        live = [p for p, latest, _ in items
                if latest and p.exit is None and p.reach and not p.won]
        current = max(p.furthest for p in live if p.furthest is not None) if live else None
        since = min(p.reach[current] for p in live if p.furthest == current) if live else None
        candidates = [p for p, latest, _ in items if latest and p.exit is not None]
        chosen = None
        if candidates:
            best = max(((-1 if p.furthest is None else p.furthest), p.exit.at)  # type: ignore[union-attr]
                       for p in candidates)
            tied = [p for p in candidates
                    if ((-1 if p.furthest is None else p.furthest), p.exit.at) == best]  # type: ignore[union-attr]
            name = min(p.exit.name for p in tied)  # type: ignore[union-attr]
            reason = min((p.exit.reason for p in tied if p.exit.reason), default=None)  # type: ignore[union-attr]
            chosen = Event("", ("", ""), name, best[1], reason, None)
        status = "won" if entries[WON] is not None else ("open" if live else "exited")
        furthest = max(i for i, e in enumerate(entries) if e is not None)
        out[jid] = Journey(
            jid=jid, entity=items[0][2], passes=[p for p, _, _ in items],
            latest={id(p) for p, latest, _ in items if latest}, entries=entries, status=status,
            current=current, since=since, exit=chosen, furthest=furthest,
            open_amount=sum(p.amount or 0.0 for p in live),
            won_amount=sum(p.amount or 0.0 for p, _, _ in items if p.won),
            lost_amount=sum(p.amount or 0.0 for p, latest, _ in items
                            if latest and p.exit is not None and not p.won),
        )
    return out


@dataclass
class Ref:
    """The reference report."""

    level: str
    as_of: dt.datetime
    active: list[str]
    journeys: dict[str, Journey]
    events: list[Event]
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    window: float | None = None
    won_window: float | None = None

    def in_range(self, t: dt.datetime | None) -> bool:
        return t is not None and (self.start is None or t >= self.start) and (
            self.end is None or t < self.end)

    def idx(self, stage: str) -> int:
        return STAGES.index(stage)

    def next_of(self, stage: str) -> str | None:
        i = self.active.index(stage)
        return self.active[i + 1] if i + 1 < len(self.active) else None

    def gap(self, j: Journey, a: str, b: str) -> float | None:
        ea, eb = j.entries[self.idx(a)], j.entries[self.idx(b)]
        if ea is None or eb is None:
            return None
        return (eb - ea).total_seconds()

    def within(self, j: Journey, a: str, b: str, days: float | None) -> bool:
        g = self.gap(j, a, b)
        return g is not None and (days is None or g <= days * DAY)

    def funnel(self, js: list[Journey] | None = None) -> dict[str, dict[str, Any]]:
        js = list(self.journeys.values()) if js is None else js
        out = {}
        for s in self.active:
            i = self.idx(s)
            ent = [j for j in js if self.in_range(j.entries[i])]
            nxt = self.next_of(s)
            out[s] = {
                "entered": len(ent),
                "observed": sum(1 for j in ent if any(i in p.reach for p in j.passes)),
                "converted": None if nxt is None else sum(
                    1 for j in ent if self.within(j, s, nxt, self.window)),
                "won": sum(1 for j in ent if self.within(j, s, "won", self.won_window)),
                "open": sum(1 for j in ent if j.status == "open" and j.furthest == i),
                "exited": sum(1 for j in ent if j.status == "exited" and j.furthest == i),
            }
        return out

    def durations(self, s: str, kind: str, js: list[Journey] | None = None) -> list[float]:
        js = list(self.journeys.values()) if js is None else js
        to = self.next_of(s) if kind == "next" else "won"
        days = self.window if kind == "next" else self.won_window
        assert to is not None
        return [self.gap(j, s, to) or 0.0 for j in js
                if self.in_range(j.entries[self.idx(s)]) and self.within(j, s, to, days)]

    def velocity(self) -> dict[tuple[str, str], dict[str, float]]:
        out = {}
        for s in self.active[:-1]:
            for kind in ("next", "won"):
                xs = np.array(self.durations(s, kind)) / DAY
                if len(xs):
                    out[(s, kind)] = {"n": len(xs), "mean": float(xs.mean()),
                                      **{f"p{q}": float(np.percentile(xs, q))
                                         for q in (10, 25, 50, 75, 90)}}
        return out

    def thresholds(self, q: int = 90) -> dict[str, float]:
        return {s: float(np.percentile(np.array(d), q)) for s in self.active[:-1]
                if (d := self.durations(s, "next"))}

    def ages(self) -> dict[str, list[tuple[str, float]]]:
        out: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for j in self.journeys.values():
            if j.status == "open":
                assert j.current is not None and j.since is not None
                out[STAGES[j.current]].append((j.jid, (self.as_of - j.since).total_seconds()))
        return out

    def stalled(self, q: int = 90) -> dict[str, float]:
        thr = self.thresholds(q)
        return {jid: age for s, items in self.ages().items() for jid, age in items
                if s in thr and age > thr[s]}

    def cohorts(self) -> dict[dt.date, dict[str, int]]:
        out: dict[dt.date, dict[str, int]] = {}
        for j in self.journeys.values():
            first = j.entries[0]
            if not self.in_range(first):
                continue
            assert first is not None
            key = dt.date(first.year, first.month, 1)
            c = out.setdefault(key, {"size": 0, **dict.fromkeys(self.active, 0)})
            c["size"] += 1
            for s in self.active:
                c[s] += j.reached(self.idx(s))
        return dict(sorted(out.items()))

    def leakage(self) -> dict[tuple[str | None, str, str | None], dict[str, int]]:
        out: dict[tuple[str | None, str, str | None], dict[str, Any]] = {}
        # every pass that ended with an exit, also one no journey holds (nothing before it)
        for (entity, _member), passes in passes_by_member(self.events).items():
            for p in passes:
                if p.exit is None or p.won or not self.in_range(p.exit.at):
                    continue
                key = (None if p.furthest is None else STAGES[p.furthest], p.exit.name,
                       p.exit.reason)
                row = out.setdefault(key, {"events": 0, "entities": set(), "final": 0})
                row["events"] += 1
                row["entities"].add(entity)
        for j in self.journeys.values():
            if j.status == "exited" and j.exit is not None and self.in_range(j.exit.at):
                key = (STAGES[j.furthest or 0], j.exit.name, j.exit.reason)
                out.setdefault(key, {"events": 0, "entities": set(), "final": 0})["final"] += 1
        return {k: {"events": v["events"], "entities": len(v["entities"]), "final": v["final"]}
                for k, v in out.items()}

    def post_sale(self) -> tuple[dict[str, dict[str, float]], int]:
        out: dict[str, dict[str, Any]] = {}
        for e in self.events:
            if e.kind == "post" and e.at <= self.as_of and self.in_range(e.at):
                row = out.setdefault(e.name, {"events": 0, "entities": set(), "amount": 0.0})
                row["events"] += 1
                row["entities"].add(e.entity)
                row["amount"] += e.amount or 0.0
        customers = len({j.entity for j in self.journeys.values() if j.status == "won"})
        return ({k: {"events": v["events"], "entities": len(v["entities"]),
                     "amount": v["amount"]} for k, v in out.items()}, customers)

    def status(self, lo: dt.datetime) -> dict[str, Any]:
        """Open per stage now; entries, wins and exits during (lo, as_of]."""
        js = list(self.journeys.values())

        def inside(t: dt.datetime | None) -> bool:
            return t is not None and lo < t <= self.as_of
        out: dict[str, Any] = {}
        for s in self.active[:-1]:
            i = self.idx(s)
            here = [j for j in js if j.status == "open" and j.current == i]
            out[s] = (len(here), sum(j.open_amount for j in here),
                      sum(1 for j in js if inside(j.entries[i])))
        won = [j for j in js if inside(j.entries[WON])]
        out["won"] = (len(won), sum(j.won_amount for j in won), len(won))
        for x in EXITS:
            gone = [j for j in js if j.status == "exited" and j.exit is not None
                    and j.exit.name == x and inside(j.exit.at)]
            out[x] = (len(gone), sum(j.lost_amount for j in gone), len(gone))
        return out


def report(level: str, *, reentry: str = "first", as_of: dt.datetime | None = None,
           start: dt.datetime | None = None, end: dt.datetime | None = None,
           window: float | None = None, won_window: float | None = None,
           people_with_deals: bool = False) -> Ref:
    """The reference report at ``level``."""
    evs = events(level, people_with_deals)
    as_of = as_of or max(e.at for e in evs)
    evs = [e for e in evs if e.at <= as_of]
    js = build_journeys(evs, reentry)
    observed = {r for j in js.values() for p in j.passes for r in p.reach}
    active = [s for i, s in enumerate(STAGES) if i in observed or s == "won"]
    return Ref(level, as_of, active, js, evs, start, end, window, won_window)


# -- dimensions (lead and account level) ------------------------------------------------------

def lead_dimension(name: str) -> dict[str, str]:
    """Value per person of ``channel``, ``owner``, ``segment`` or ``custom.<key>``."""
    contacts = rows(world.CONTACTS)
    accounts = {r["account_id"]: r for r in rows(world.ACCOUNTS)}
    touches: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for t in rows(world.TOUCHPOINTS):
        at = ts(t["occurred_at"])
        assert at is not None
        touches[t["contact_id"]].append((at, t["channel"]))
    out = {}
    for c in contacts:
        cid = c["contact_id"]
        if name == "channel":
            value = min(touches[cid])[1] if touches[cid] else (c["lead_source"] or None)
        elif name == "owner":
            value = c["owner_id"] or None
        elif name == "segment":
            emp = accounts.get(c["account_id"], {}).get("employees")
            value = None if not emp else ("enterprise" if int(emp) >= 1000 else
                                          "mid_market" if int(emp) >= 100 else "smb")
        else:
            key = name.split(".", 1)[1]
            custom = json.loads(c["custom"]) if c["custom"] else {}
            value = None if custom.get(key) is None else str(custom[key])
        out[cid] = value or "(none)"
    return out


def account_channel() -> dict[str, str]:
    """First touch of the account, else the lead source of its earliest person."""
    contacts = sorted(rows(world.CONTACTS), key=lambda c: (c["created_at"], c["contact_id"]))
    out: dict[str, str] = {}
    for a in rows(world.ACCOUNTS):
        aid = a["account_id"]
        touches = sorted((t["occurred_at"], t["channel"]) for t in rows(world.TOUCHPOINTS)
                         if t["account_id"] == aid)
        people = [c["lead_source"] for c in contacts if c["account_id"] == aid
                  and c["lead_source"]]
        out[aid] = touches[0][1] if touches else (people[0] if people else "(none)")
    return out

