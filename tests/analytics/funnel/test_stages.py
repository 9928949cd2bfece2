"""Stage definitions: built-in value maps, revloop.toml, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from revloop.analytics.funnel.stages import BUILTIN_MAPS, definitions_from_settings, normalise
from revloop.errors import ConfigError
from revloop.settings import FunnelSettings, load_settings


def _defs(**kw: object) -> object:
    return definitions_from_settings(FunnelSettings(**kw))  # type: ignore[arg-type]


def test_default_waterfall_exits_and_post_sale() -> None:
    d = definitions_from_settings()
    assert d.stages == ("inquiry", "mql", "sal", "sql", "opportunity", "won")
    assert d.exits == ("lost", "disqualified", "recycled")
    assert d.post_sale == ("renewal", "expansion", "churn")
    assert d.won == "won" and d.rank("sql") == 3
    assert [d.label(s) for s in ("mql", "won", "recycled")] == ["MQL", "Won", "Recycled"]


@pytest.mark.parametrize(("entity_type", "value", "target"), [
    # the generator's vocabulary
    ("lead", "inquiry", "inquiry"), ("contact", "customer", "won"),
    ("lead", "recycled", "recycled"), ("opportunity", "discovery", "opportunity"),
    ("opportunity", "negotiation", "opportunity"), ("opportunity", "closed_won", "won"),
    ("opportunity", "closed_lost", "lost"), ("account", "churned", "churn"),
    # Salesforce lead statuses and opportunity stages (any case and spacing at the ends)
    ("lead", "Open - Not Contacted", "inquiry"), ("lead", "Working - Contacted", "sal"),
    ("lead", "Closed - Converted", "sql"), ("lead", "Closed - Not Converted", "disqualified"),
    ("lead", "converted", "sql"), ("opportunity", "Id. Decision Makers", "opportunity"),
    ("opportunity", " Proposal/Price Quote ", "opportunity"),
    ("opportunity", "Negotiation/Review", "opportunity"), ("opportunity", "Closed Won", "won"),
    ("opportunity", "CLOSED LOST", "lost"),
    # HubSpot lifecycle stages and default deal stages
    ("contact", "subscriber", "inquiry"), ("contact", "marketingqualifiedlead", "mql"),
    ("contact", "salesqualifiedlead", "sql"), ("account", "customer", "won"),
    ("contact", "evangelist", "won"), ("contact", "other", None),
    ("opportunity", "appointmentscheduled", "opportunity"),
    ("opportunity", "decisionmakerboughtin", "opportunity"),
    ("opportunity", "closedwon", "won"), ("opportunity", "closedlost", "lost"),
    # the example mappings (Olist, Maven CRM)
    ("lead", "mql", "mql"), ("lead", "won", "won"), ("opportunity", "engaging", "opportunity"),
    ("opportunity", "lost", "lost"),
    # unknown
    ("lead", "weird_status", None),
])
def test_builtin_value_maps(entity_type: str, value: str, target: str | None) -> None:
    assert definitions_from_settings().target(entity_type, value) == target


def test_builtin_maps_agree_with_each_other() -> None:
    seen: dict[str, tuple[str, str]] = {}
    for name, m in BUILTIN_MAPS.items():
        for key, target in m.items():
            assert key == normalise(key), f"{name}: {key!r} is not normalised"
            if key in seen:
                assert seen[key][1] == target, f"{key!r}: {seen[key][0]} and {name} disagree"
            seen[key] = (name, target)


def test_custom_values_aliases_and_entity_overrides() -> None:
    d = definitions_from_settings(FunnelSettings(
        values={"Trial Started": "trial", "trial": "sql", "Working - Contacted": "mql",
                "Junk": "ignore"},
        entity_values={"opportunity": {"Stage 0": "Prospecting", "customer": "ignore"}}))
    assert d.target("lead", "trial started") == "sql"  # alias chain
    assert d.target("lead", "Working - Contacted") == "mql"  # wins over the built-in
    assert d.target("lead", "junk") is None
    assert d.target("opportunity", "stage 0") == "opportunity"  # alias to a built-in value
    assert d.target("opportunity", "customer") is None and d.target("lead", "customer") == "won"


def test_custom_waterfall_drops_builtin_values_it_does_not_define() -> None:
    d = definitions_from_settings(FunnelSettings(stages=["lead", "mql", "sql", "won"],
                                                 values={"inquiry": "lead"}))
    assert d.target("lead", "inquiry") == "lead"
    assert d.target("lead", "Working - Contacted") is None  # targets 'sal', not defined
    assert d.unused_builtin["working - contacted"] == "sal"


@pytest.mark.parametrize(("settings", "message"), [
    ({"values": {"Foo": "xyz"}},
     r"funnel\.values: 'foo' maps to 'xyz', which is neither a stage"),
    ({"values": {"a": "b", "b": "c", "c": "a"}}, r"the aliases loop \(a → b → c → a\)"),
    ({"values": {"Closed Won": "won", "closed won ": "lost"}},
     r"'Closed Won' and 'closed won ' are the same value .* map to 'won' and 'lost'"),
    ({"stages": ["inquiry", "mql", "inquiry", "won"]},
     r"'inquiry' appears twice in funnel\.stages: the waterfall would loop"),
    ({"exits": ["lost", "mql"]}, r"'mql' appears in both funnel\.stages and funnel\.exits"),
    ({"stages": ["won"]}, r"at least two stages"),
    ({"stages": ["Inquiry", "won"]}, r"'Inquiry' is not a valid name"),
    ({"labels": {"xyz": "X"}}, r"funnel\.labels: 'xyz' is not a stage"),
    ({"entity_values": {"deal": {"a": "won"}}}, r"'deal' is not an entity type"),
    ({"post_sale_opportunity_types": ["upsell"]}, r"'upsell' is not a post-sale event"),
    ({"segments": {"a": 0, "b": 0}}, r"two segments start at the same employee count"),
    ({"entity_values": {"lead": {"x": "y"}}},
     r"funnel\.entity_values\.lead: 'x' maps to 'y'"),
])
def test_invalid_definitions_are_clear_errors(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _defs(**settings)


def test_revloop_toml_funnel_table_and_env_override(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "revloop.toml").write_text(
        '[revloop]\ndb = "duckdb:///x.duckdb"\n\n[funnel]\nwindow_days = 90\n'
        'reentry = "cycle"\n\n[funnel.values]\n"Stage 7" = "won"\n'
        '\n[funnel.labels]\nmql = "Marketing qualified"\n')
    s = load_settings()
    assert s.db == "duckdb:///x.duckdb"
    assert (s.funnel.window_days, s.funnel.reentry) == (90, "cycle")
    d = definitions_from_settings(s.funnel)
    assert d.target("opportunity", "stage 7") == "won"
    assert d.label("mql") == "Marketing qualified"
    monkeypatch.setenv("REVLOOP_FUNNEL", json.dumps({"window_days": 30}))
    assert load_settings().funnel.window_days == 30


def test_unknown_funnel_setting_is_refused(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "revloop.toml").write_text("[funnel]\nwindow = 90\n")
    with pytest.raises(ConfigError, match="window"):
        load_settings()
