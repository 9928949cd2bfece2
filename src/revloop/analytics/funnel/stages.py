"""Stage definitions: the waterfall, its exits and post-sale events, and the value maps that
turn every source's stage names into them.

A ``stage_transitions.to_stage`` value is normalised (trimmed, lower case) and looked up in the
map of its ``entity_type`` first, then in the general map. A map target is a waterfall stage,
an exit, a post-sale event, the word ``ignore``, or another source value of the same maps (an
alias, resolved until it reaches a definition; a loop of aliases is an error). Values that map
to nothing are ignored and reported by the funnel as *unmapped*, so they can be configured.

The built-in maps cover the generator's vocabulary, Salesforce's standard lead statuses and
opportunity stages, HubSpot's lifecycle stages and default deal stages, and the values the
example mapping files (Olist, Maven CRM, X Education) store.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from revloop.errors import ConfigError
from revloop.schema import ENTITY_TYPES
from revloop.settings import FunnelSettings

IGNORE = "ignore"
Kind = Literal["stage", "exit", "post_sale"]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# -- built-in value maps (keys are normalised source values) ----------------------------------

#: The synthetic company generator (``revloop generate``): people, opportunities, accounts.
GENERATOR_VALUES: dict[str, str] = {
    "customer": "won",
    "qualification": "opportunity", "discovery": "opportunity", "proposal": "opportunity",
    "negotiation": "opportunity", "closed_won": "won", "closed_lost": "lost",
    "churned": "churn",
}
#: Salesforce Lead.Status (classic and Lightning defaults) and the adapter's conversion row.
SALESFORCE_LEAD_VALUES: dict[str, str] = {
    "open - not contacted": "inquiry", "working - contacted": "sal",
    "closed - converted": "sql", "closed - not converted": "disqualified",
    "new": "inquiry", "working": "sal", "nurturing": "recycled", "qualified": "sql",
    "unqualified": "disqualified",
    # the Salesforce adapter writes a 'converted' transition at ConvertedDate: converting a
    # lead is sales accepting it as qualified
    "converted": "sql",
}
#: Salesforce Opportunity.StageName, standard picklist.
SALESFORCE_OPPORTUNITY_VALUES: dict[str, str] = {
    "prospecting": "opportunity", "qualification": "opportunity",
    "needs analysis": "opportunity", "value proposition": "opportunity",
    "id. decision makers": "opportunity", "perception analysis": "opportunity",
    "proposal/price quote": "opportunity", "negotiation/review": "opportunity",
    "closed won": "won", "closed lost": "lost",
}
#: HubSpot lifecycle stages (contacts and companies).
HUBSPOT_LIFECYCLE_VALUES: dict[str, str] = {
    "subscriber": "inquiry", "lead": "inquiry", "marketingqualifiedlead": "mql",
    "salesqualifiedlead": "sql", "opportunity": "opportunity", "customer": "won",
    "evangelist": "won", "other": IGNORE,
}
#: HubSpot's default sales pipeline deal stages.
HUBSPOT_DEAL_VALUES: dict[str, str] = {
    "appointmentscheduled": "opportunity", "qualifiedtobuy": "opportunity",
    "presentationscheduled": "opportunity", "decisionmakerboughtin": "opportunity",
    "contractsent": "opportunity", "closedwon": "won", "closedlost": "lost",
}
#: What the example mapping files store (Olist: mql, won; Maven: engaging, won, lost;
#: X Education stores no transitions, its lifecycle values are lead / customer).
EXAMPLE_VALUES: dict[str, str] = {
    "engaging": "opportunity", "won": "won", "lost": "lost", "mql": "mql",
}

BUILTIN_MAPS: dict[str, dict[str, str]] = {
    "generator": GENERATOR_VALUES,
    "salesforce_lead": SALESFORCE_LEAD_VALUES,
    "salesforce_opportunity": SALESFORCE_OPPORTUNITY_VALUES,
    "hubspot_lifecycle": HUBSPOT_LIFECYCLE_VALUES,
    "hubspot_deal": HUBSPOT_DEAL_VALUES,
    "examples": EXAMPLE_VALUES,
}


DEFAULT_LABELS: dict[str, str] = {
    "inquiry": "Inquiry", "mql": "MQL", "sal": "SAL", "sql": "SQL",
    "opportunity": "Opportunity", "won": "Won", "lost": "Lost",
    "disqualified": "Disqualified", "recycled": "Recycled", "renewal": "Renewal",
    "expansion": "Expansion", "churn": "Churn",
}


def normalise(value: str) -> str:
    """The form values are compared in: trimmed, lower case (the queries do the same)."""
    return value.strip().lower()


@dataclass(frozen=True)
class StageDefinitions:
    """The resolved, validated stage definitions the funnel queries use."""

    stages: tuple[str, ...]
    exits: tuple[str, ...]
    post_sale: tuple[str, ...]
    labels: dict[str, str]
    values: dict[str, str]  # normalised source value -> definition name (or ignore)
    entity_values: dict[str, dict[str, str]]  # entity_type -> overrides
    post_sale_opportunity_types: tuple[str, ...]
    unused_builtin: dict[str, str] = field(default_factory=dict)  # targets not defined here

    @property
    def won(self) -> str:
        """The last waterfall stage."""
        return self.stages[-1]

    def rank(self, stage: str) -> int:
        """Position of ``stage`` in the waterfall (0 = first)."""
        return self.stages.index(stage)

    def kind(self, name: str) -> Kind | None:
        """Whether ``name`` is a stage, an exit or a post-sale event."""
        if name in self.stages:
            return "stage"
        if name in self.exits:
            return "exit"
        if name in self.post_sale:
            return "post_sale"
        return None

    def label(self, name: str) -> str:
        """Display name of a stage, exit or event."""
        fallback = name.replace("_", " ").capitalize()
        return self.labels.get(name) or DEFAULT_LABELS.get(name) or fallback

    def target(self, entity_type: str, value: str | None) -> str | None:
        """Definition a source value of ``entity_type`` maps to (None: unmapped or ignored)."""
        if value is None:
            return None
        key = normalise(value)
        found = self.entity_values.get(entity_type, {}).get(key, self.values.get(key))
        return None if found in (None, IGNORE) else found

    def describe(self) -> dict[str, Any]:
        """A JSON-able view (for ``revloop funnel --stages``)."""
        return {
            "stages": list(self.stages), "exits": list(self.exits),
            "post_sale": list(self.post_sale),
            "labels": {n: self.label(n) for n in (*self.stages, *self.exits, *self.post_sale)},
            "values": dict(sorted(self.values.items())),
            "entity_values": {k: dict(sorted(v.items()))
                              for k, v in sorted(self.entity_values.items())},
            "post_sale_opportunity_types": list(self.post_sale_opportunity_types),
            "unused_builtin_values": dict(sorted(self.unused_builtin.items())),
        }


def _check_names(cfg: FunnelSettings) -> None:
    """The settings' names and segments are consistent (the first problem found raises)."""
    seen = _check_unique_names(cfg)
    if len(cfg.stages) < 2:
        raise ConfigError("funnel.stages: the waterfall needs at least two stages "
                          "(the last one is won)")
    _check_post_sale_types(cfg)
    _check_labels(cfg, seen)
    _check_segments(cfg)


def _check_unique_names(cfg: FunnelSettings) -> dict[str, str]:
    """Every stage, exit and post-sale name is valid and used once; name → its section."""
    seen: dict[str, str] = {}
    for section in ("stages", "exits", "post_sale"):
        for name in getattr(cfg, section):
            _check_name(section, name, seen)
            seen[name] = section
    return seen


def _check_name(section: str, name: str, seen: Mapping[str, str]) -> None:
    """One name of ``funnel.<section>``, given the sections of the names before it."""
    if not _NAME.match(name):
        raise ConfigError(
            f"funnel.{section}: {name!r} is not a valid name (lower-case letters, "
            "digits and _, starting with a letter)")
    if name == IGNORE:
        raise ConfigError(f"funnel.{section}: 'ignore' is reserved")
    if name in seen:
        where = ("twice in funnel.stages: the waterfall would loop back on itself"
                 if seen[name] == section == "stages"
                 else f"in both funnel.{seen[name]} and funnel.{section}")
        raise ConfigError(f"funnel: {name!r} appears {where}")


def _check_post_sale_types(cfg: FunnelSettings) -> None:
    for t in cfg.post_sale_opportunity_types:
        if t not in cfg.post_sale:
            raise ConfigError(
                f"funnel.post_sale_opportunity_types: {t!r} is not a post-sale event "
                f"(post_sale: {', '.join(cfg.post_sale) or 'none'})")


def _check_labels(cfg: FunnelSettings, defined: Container[str]) -> None:
    for name in cfg.labels:
        if name not in defined:
            raise ConfigError(f"funnel.labels: {name!r} is not a stage, exit or post-sale event")


def _check_segments(cfg: FunnelSettings) -> None:
    if not cfg.segments:
        raise ConfigError("funnel.segments: at least one segment is needed")
    for name, low in cfg.segments.items():
        if low < 0:
            raise ConfigError(f"funnel.segments: {name!r} starts at {low} employees; "
                              "use 0 or more")
    if len(set(cfg.segments.values())) != len(cfg.segments):
        raise ConfigError("funnel.segments: two segments start at the same employee count")


def _normalised_map(where: str, raw: Mapping[str, str]) -> dict[str, str]:
    """Keys normalised; the same value mapped twice to different targets is an error."""
    out: dict[str, str] = {}
    original: dict[str, str] = {}
    for key, target in raw.items():
        k, t = normalise(key), target.strip()
        if not k:
            raise ConfigError(f"{where}: an empty source value cannot be mapped")
        if k in out and out[k] != t:
            raise ConfigError(
                f"{where}: {original[k]!r} and {key!r} are the same value once trimmed and "
                f"lower-cased, but map to {out[k]!r} and {t!r}: keep one")
        out[k] = t
        original[k] = key
    return out


def _resolve(where: str, key: str, maps: list[dict[str, str]], defined: set[str]) -> str:
    """Follow aliases from ``key`` through ``maps`` (first map wins) until a definition."""
    path = [key]
    current = key
    while True:
        target = next((m[current] for m in maps if current in m), None)
        assert target is not None
        if target in defined or target == IGNORE:
            return target
        nt = normalise(target)
        if nt in path:
            loop = " → ".join([*path[path.index(nt):], nt])
            raise ConfigError(f"{where}: the aliases loop ({loop}); map one of them to a "
                              "stage, an exit, a post-sale event or 'ignore'")
        if not any(nt in m for m in maps):
            raise ConfigError(
                f"{where}: {key!r} maps to {target!r}, which is neither a stage "
                f"({', '.join(sorted(defined))}) nor 'ignore' nor another mapped value")
        path.append(nt)
        current = nt


def definitions_from_settings(cfg: FunnelSettings | None = None) -> StageDefinitions:
    """Validate the ``[funnel]`` settings and resolve the value maps.

    Raises :class:`ConfigError` with one clear sentence on invalid names, a stage listed twice
    (a loop in the waterfall), a value mapped twice, an unknown target or an alias loop.
    """
    cfg = cfg or FunnelSettings()
    _check_names(cfg)
    defined = {*cfg.stages, *cfg.exits, *cfg.post_sale}
    builtin: dict[str, str] = {}
    unused: dict[str, str] = {}
    if cfg.builtin_values:
        for m in BUILTIN_MAPS.values():
            for k, t in m.items():
                if t in defined or t == IGNORE:
                    builtin.setdefault(k, t)
                else:
                    unused.setdefault(k, t)
    general = _normalised_map("funnel.values", cfg.values)
    # every defined name stands for itself unless a map says otherwise
    identity = {n: n for n in defined}
    base_maps = [general, builtin, identity]
    values: dict[str, str] = {}
    for key in sorted({*general, *builtin, *identity}):
        values[key] = _resolve("funnel.values", key, base_maps, defined)
    entity_values: dict[str, dict[str, str]] = {}
    for etype, raw in cfg.entity_values.items():
        if etype not in ENTITY_TYPES:
            raise ConfigError(f"funnel.entity_values: {etype!r} is not an entity type "
                              f"({', '.join(ENTITY_TYPES)})")
        where = f"funnel.entity_values.{etype}"
        own = _normalised_map(where, raw)
        maps = [own, *base_maps]
        entity_values[etype] = {k: _resolve(where, k, maps, defined) for k in sorted(own)}
    return StageDefinitions(
        stages=tuple(cfg.stages), exits=tuple(cfg.exits), post_sale=tuple(cfg.post_sale),
        labels=dict(cfg.labels), values=values, entity_values=entity_values,
        post_sale_opportunity_types=tuple(cfg.post_sale_opportunity_types),
        unused_builtin={k: v for k, v in unused.items() if k not in values},
    )
