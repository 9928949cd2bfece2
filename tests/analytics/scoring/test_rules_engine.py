"""Rule-based lead scoring on every engine, checked against a plain-Python computation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from revloop import facade
from revloop.analytics.scoring.rules import parse_rules
from revloop.analytics.scoring.rules_engine import score_rules
from revloop.store import Store
from tests.analytics.scoring import hand_world as hw

AS_OF = dt.datetime(2024, 4, 1)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _ts(text: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


# ----------------------------------------------------------------------------- the reference

Row = dict[str, Any]


# Written as plainly as possible, apart from the code it checks: complexity is accepted.
def _reference(  # noqa: C901
        as_of: dt.datetime,
) -> tuple[dict[str, float], dict[tuple[str, str], float],
           list[tuple[str, str, str | None, float]]]:
    """Scores, group scores and the log of hw.RULES computed by hand-written Python."""
    accounts = {r["account_id"]: r for r in _rows(hw.ACCOUNTS)}
    techs: dict[str, set[str]] = defaultdict(set)
    for r in _rows(hw.TECHNOGRAPHICS):
        if dt.datetime.fromisoformat(r["first_seen"]) < as_of:
            techs[r["account_id"]].add(r["technology"].lower())
    campaigns = {r["campaign_id"]: r for r in _rows(hw.CAMPAIGNS)}
    content = {r["content_id"]: r for r in _rows(hw.CONTENT)}
    contacts = {r["contact_id"]: r for r in _rows(hw.CONTACTS)
                if not r["created_at"] or _ts(r["created_at"]) < as_of}  # type: ignore[operator]

    def acc(c: Row) -> Row:
        return accounts.get(c["account_id"], {})

    def num(text: str) -> float | None:
        try:
            return float(text)
        except ValueError:
            return None

    fit: list[tuple[str, str, float, Callable[[Row], bool]]] = [
        ("software", "general", 10, lambda c: acc(c).get("industry", "").lower() in (
            "software", "saas")),
        ("big_company", "general", 5, lambda c: float(acc(c).get("employees") or 0) >= 200),
        ("senior", "general", 8, lambda c: c["seniority"] in ("vp", "c_level")),
        ("pro_plan", "analytics", 4, lambda c: c["plan"].lower() == "pro"),
        ("many_seats", "analytics", 3, lambda c: (num(c["seats"]) or 0) > 10),
        ("student", "penalties", -20, lambda c: c["email"].endswith(".edu")),
        ("unsubscribed", "penalties", -25, lambda c: c["is_unsubscribed"] == "true"),
        ("competitor", "penalties", -50,
         lambda c: c["email"].lower().split("@")[1] == "rival.com"),
        ("uses_salesforce", "general", 6, lambda c: "salesforce" in techs[c["account_id"]]),
        ("gold_tier", "general", 2, lambda c: acc(c).get("tier") == "gold"),
    ]
    # name, group, points, half-life (None = no decay), once, cap, predicate on a touch
    engagement: list[tuple[str, str, float, float | None, bool, float | None,
                           Callable[[Row], bool]]] = [
        ("pricing_page", "general", 10, 30, False, 25,
         lambda t: t["touch_type"] == "visit" and "/pricing" in t["url"].lower()),
        ("webinar", "analytics", 15, 30, True, None, lambda t: t["touch_type"] == "webinar"),
        ("email_open", "general", 2, 10, False, None, lambda t: t["touch_type"] == "email_open"),
        ("demo_request", "general", 30, None, False, None,
         lambda t: t["touch_type"] == "form_fill" and t["content_id"] and content[
             t["content_id"]]["title"].lower() == "pricing guide"),
        ("careers", "general", -5, 30, False, None, lambda t: "/careers" in t["url"]),
        ("webinar_campaign", "analytics", 3, 30, False, None,
         lambda t: bool(t["campaign_id"]) and campaigns[t["campaign_id"]][
             "campaign_type"] == "Webinar"),
    ]
    group_limits = {"analytics": (None, 25.0), "penalties": (-40.0, None)}

    # events: (contact, rule, group, when, touch, points, half-life)
    events: list[tuple[str, str, str, dt.datetime | None, str | None, float,
                       float | None, float | None]] = []
    for cid, c in contacts.items():
        for name, group, pts, pred in fit:
            if pred(c):
                events.append((cid, name, group, _ts(c["created_at"]), None, pts, None, None))
    touches = sorted((t for t in _rows(hw.TOUCHPOINTS) if t["contact_id"] in contacts
                      and _ts(t["occurred_at"]) < as_of),  # type: ignore[operator]
                     key=lambda t: (t["occurred_at"], t["touchpoint_id"]))
    fired_once: set[tuple[str, str]] = set()
    for t in touches:
        for name, group, pts, hl, once, cap, pred in engagement:
            if not pred(t):
                continue
            if once and (t["contact_id"], name) in fired_once:
                continue
            fired_once.add((t["contact_id"], name))
            events.append((t["contact_id"], name, group, _ts(t["occurred_at"]),
                           t["touchpoint_id"], pts, hl, cap))

    def decayed(e: tuple[Any, ...]) -> float:
        when, pts, hl = e[3], e[5], e[6]
        if hl is None or when is None:
            return float(pts)
        age = (as_of - when).total_seconds() / 86400
        return float(pts) * 0.5 ** (age / hl)

    rule_raw: dict[tuple[str, str], float] = defaultdict(float)
    for e in events:
        rule_raw[(e[0], e[1])] += decayed(e)
    rule_cap = {(e[0], e[1]): e[7] for e in events}
    rule_scale = {}
    group_raw: dict[tuple[str, str], float] = defaultdict(float)
    rule_group = {(e[0], e[1]): e[2] for e in events}
    for key, raw in rule_raw.items():
        cap = rule_cap[key]
        capped = raw if cap is None else max(-cap, min(cap, raw))
        rule_scale[key] = 1.0 if raw == 0 else capped / raw
        group_raw[(key[0], rule_group[key])] += capped
    groups: dict[tuple[str, str], float] = {}
    group_scale = {}
    for key, raw in group_raw.items():
        low, high = group_limits.get(key[1], (None, None))
        v = raw if high is None else min(high, raw)
        v = v if low is None else max(low, v)
        groups[key] = v
        group_scale[key] = 1.0 if raw == 0 else v / raw
    log = []
    scores = dict.fromkeys(contacts, 0.0)
    for e in events:
        eff = decayed(e) * rule_scale[(e[0], e[1])] * group_scale[(e[0], e[2])]
        log.append((e[0], e[1], e[4], eff))
        scores[e[0]] += eff
    return scores, groups, log


# ----------------------------------------------------------------------------- the tests

def _built(store: Store, tmp_path: Path) -> None:
    result = facade.import_files(store, "canonical", hw.write_hand_world(tmp_path / "w"))
    assert result.reconciles and result.total("quarantined") == 0
    facade.build_model(store)


def test_rule_engine_matches_plain_python_on_every_engine(backend: Store,
                                                          tmp_path: Path) -> None:
    _built(backend, tmp_path)
    rules = parse_rules(hw.RULES)
    tables = score_rules(backend, rules, AS_OF)
    exp_scores, exp_groups, exp_log = _reference(AS_OF)

    scores = {r["contact_id"]: r for r in tables.scores.to_pyarrow().to_pylist()}
    assert sorted(scores) == sorted(exp_scores) == ["c-1", "c-2", "c-3", "c-4", "c-6"]
    for cid, expected in exp_scores.items():
        assert scores[cid]["score"] == pytest.approx(expected, abs=1e-5), cid
        assert scores[cid]["fit_score"] + scores[cid]["engagement_score"] == pytest.approx(
            scores[cid]["score"], abs=1e-5)
    groups = {(r["contact_id"], r["group_name"]): r for r in
              tables.groups.to_pyarrow().to_pylist()}
    assert set(groups) == set(exp_groups)
    for key, expected in exp_groups.items():
        assert groups[key]["score"] == pytest.approx(expected, abs=1e-5), key
    log = sorted((r["contact_id"], r["rule"], r["touchpoint_id"] or "", r["effective_points"])
                 for r in tables.log.to_pyarrow().to_pylist())
    expected_log = sorted((c, rule, t or "", eff) for c, rule, t, eff in exp_log)
    assert [row[:3] for row in log] == [row[:3] for row in expected_log]
    for got, want in zip(log, expected_log, strict=True):
        assert got[3] == pytest.approx(want[3], abs=1e-6), got


def test_caps_decay_once_negatives_groups_by_hand(duck: Store, tmp_path: Path) -> None:
    """The same world, a few figures worked out on paper."""
    _built(duck, tmp_path)
    tables = score_rules(duck, parse_rules(hw.RULES), AS_OF)
    log = tables.log.to_pyarrow().to_pylist()
    by = defaultdict(list)
    for r in log:
        by[(r["contact_id"], r["rule"])].append(r)
    # decay: an e-mail open 20 days old with a 10-day half-life keeps a quarter of its points
    opens = {r["touchpoint_id"]: r for r in by[("c-1", "email_open")]}
    assert opens["t-08"]["decay_factor"] == pytest.approx(0.25)
    assert opens["t-08"]["effective_points"] == pytest.approx(0.5)
    # cap: four pricing visits decay to 28.57 points, capped at 25 and scaled in the log
    pricing = by[("c-1", "pricing_page")]
    raw = sum(10 * 0.5 ** ((AS_OF - r["occurred_at"]).days / 30) for r in pricing)
    assert raw == pytest.approx(28.5688, abs=1e-4)
    assert sum(r["effective_points"] for r in pricing) == pytest.approx(25.0)
    # once-only: two webinars, only the first (two months old → a quarter of 15) counts
    (webinar,) = by[("c-1", "webinar")]
    assert webinar["touchpoint_id"] == "t-05"
    assert webinar["effective_points"] == pytest.approx(15 * 0.25)
    # no decay on demo requests; touches at or after the as-of instant are not seen
    (demo,) = by[("c-1", "demo_request")]
    assert demo["touchpoint_id"] == "t-09" and demo["effective_points"] == 30.0
    # negatives with a group floor: competitor −50 floored at −40; the student who
    # unsubscribed: −20 − 25 = −45 scaled to −40 (−17.78 and −22.22)
    assert by[("c-4", "competitor")][0]["effective_points"] == pytest.approx(-40.0)
    assert by[("c-3", "student")][0]["effective_points"] == pytest.approx(-40 * 20 / 45)
    # a future technology (first seen after the as-of date) does not count
    assert ("c-2", "uses_salesforce") not in by
    # contacts created after the as-of date are not scored; undated ones are
    scores = {r["contact_id"]: r for r in tables.scores.to_pyarrow().to_pylist()}
    assert "c-5" not in scores and scores["c-6"]["score"] == pytest.approx(
        30 + 2 * 0.5 ** (0.5 / 10))
    # group score with cap and its own MQL threshold; total MQL threshold 50
    groups = {(r["contact_id"], r["group_name"]): r for r in
              tables.groups.to_pyarrow().to_pylist()}
    analytics = 4 + 3 + 15 * 0.25 + 3 * 0.25 + 3 * 0.5 ** (31 / 30)
    assert groups[("c-1", "analytics")]["score"] == pytest.approx(analytics, abs=1e-6)
    assert scores["c-1"]["is_mql"] and not scores["c-2"]["is_mql"]
    assert scores["c-1"]["rules_fired"] == len([r for r in log if r["contact_id"] == "c-1"])


def test_recomputed_as_of_an_earlier_date_sees_only_what_was_known(duck: Store,
                                                                   tmp_path: Path) -> None:
    _built(duck, tmp_path)
    rules = parse_rules(hw.RULES)
    early = dt.datetime(2024, 2, 5)
    tables = score_rules(duck, rules, early)
    exp_scores, _, _ = _reference(early)
    got = {r["contact_id"]: r["score"] for r in tables.scores.to_pyarrow().to_pylist()}
    assert sorted(got) == ["c-1", "c-2", "c-3", "c-6"]
    for cid, value in exp_scores.items():
        assert got[cid] == pytest.approx(value, abs=1e-6)
    # on 2024-02-05 Ann had the demo request (30), her fit (38, incl. the analytics group)
    # and the first webinar 4 days old
    webinar = 15 * 0.5 ** (4 / 30) + 3 * 0.5 ** (4 / 30)
    assert got["c-1"] == pytest.approx(38 + 30 + webinar, abs=1e-6)
    assert math.isclose(got["c-6"], 0.0)


def test_no_rules_fire_gives_zero_scores(duck: Store, tmp_path: Path) -> None:
    _built(duck, tmp_path)
    rules = parse_rules("mql_threshold: 10\nfit:\n  - {name: x, field: title, equals: "
                        "nobody, points: 5}\n")
    scores = score_rules(duck, rules, AS_OF).scores.to_pyarrow().to_pylist()
    assert {r["score"] for r in scores} == {0.0}
    assert not any(r["is_mql"] for r in scores)


def test_regex_is_case_insensitive_by_default(duck: Store, tmp_path: Path) -> None:
    _built(duck, tmp_path)
    rules = parse_rules("fit:\n  - {name: acme, field: email, matches: '@ACME\\.COM$', "
                        "points: 1}\n  - {name: exact, field: email, matches: '@ACME', "
                        "case_sensitive: true, points: 100}\n")
    scores = {r["contact_id"]: r["score"]
              for r in score_rules(duck, rules, AS_OF).scores.to_pyarrow().to_pylist()}
    assert scores["c-1"] == 1.0 and scores["c-2"] == 0.0
    assert re.search("@ACME", "ann@acme.com") is None
