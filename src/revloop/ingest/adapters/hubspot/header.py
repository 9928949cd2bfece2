"""The columns of one HubSpot file, looked up by property name, label or ELT spelling.

Every column is reachable by its own name, case-insensitively. In an ELT layout the
property prefix is stripped as well (Fivetran ``property_email``, Airbyte
``properties_email`` → ``email``) and the tools' own columns get the property's name
(:data:`LAYOUT_RENAMES`); a real column of that name always wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from revloop.errors import InputFileError
from revloop.ingest.adapters.hubspot.maps import DEAL_STAGE_LABELS, LIFECYCLE_LABELS
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import FieldSpec, Transform

PREFIXES: dict[str, str] = {"fivetran": "property_", "airbyte": "properties_"}
LAYOUT_RENAMES: dict[str, dict[str, str]] = {
    "fivetran": {"deal_pipeline_stage_id": "dealstage", "deal_pipeline_id": "pipeline",
                 "owner_id": "hubspot_owner_id"},
    "airbyte": {"createdat": "createdate", "updatedat": "hs_lastmodifieddate"},
}
#: A repeated label, renamed by the reader: ``Lead Source (2)``.
COPY = re.compile(r"^(.*\S) \((\d+)\)$")

# Stage-date columns, in order of preference (the first family with a column for a stage
# gives that stage's date): the API's names, then the UI export's labels.
LIFECYCLE_DATES = (
    re.compile(r"^hs_lifecyclestage_(.+)_date$"),
    re.compile(r"^hs_v2_date_entered_(.+)$"),
    re.compile(r"^hs_date_entered_(.+)$"),
    re.compile(r"^became an? (.+?)(?: lifecycle)? date$"),
    re.compile(r'^date entered "(.+?)(?: \(([^()]*)\))?"$'),
)
DEAL_DATES = (
    re.compile(r"^hs_v2_date_entered_(.+)$"),
    re.compile(r"^hs_date_entered_(.+)$"),
    re.compile(r'^date entered "(.+?)(?: \(([^()]*)\))?"$'),
)
#: The default sales pipeline's label: its stage labels are the default stage ids.
DEFAULT_PIPELINE = "sales pipeline"
_LOWER_LABELS = {
    "lifecycle": {k.lower(): v for k, v in LIFECYCLE_LABELS.items() if v},
    "deal": {k.lower(): v for k, v in DEAL_STAGE_LABELS.items() if v},
}


class Header:
    """The file's columns by (lower-case) HubSpot property name."""

    def __init__(self, src: SourceFile, layout: str | None = None) -> None:
        self.src = src
        self.layout = layout
        self.by_lower: dict[str, str] = {}
        for name in src.columns:
            self.by_lower.setdefault(name.strip().lower(), name)
        prefix = PREFIXES.get(layout or "")
        if prefix:
            for name in src.columns:
                low = name.strip().lower()
                if low.startswith(prefix) and len(low) > len(prefix):
                    self.by_lower.setdefault(low[len(prefix):], name)
        for own, prop in LAYOUT_RENAMES.get(layout or "", {}).items():
            if own in self.by_lower:
                self.by_lower.setdefault(prop, self.by_lower[own])

    def all(self, names: Sequence[str]) -> list[str]:
        """The header's spelling of each of ``names`` present, in ``names`` order."""
        found = [self.by_lower.get(n.strip().lower()) for n in names]
        return list(dict.fromkeys(f for f in found if f is not None))

    def first(self, names: Sequence[str]) -> str | None:
        found = self.all(names)
        return found[0] if found else None

    def need(self, names: Sequence[str], what: str) -> str:
        """The first of ``names`` present; InputFileError naming them all otherwise."""
        found = self.first(names)
        if found is None:
            shown = self.src.columns[:30]
            raise InputFileError(
                str(self.src.path),
                f"no {what}: expected one of {', '.join(repr(n) for n in names)}; "
                f"the header has: {', '.join(shown)}"
                f"{' …' if len(self.src.columns) > 30 else ''}",
                code="missing_column",
            )
        return found

    def field(self, target: str, names: Sequence[str], *,
              values: dict[str, str | None] | None = None,
              transform: str | Transform | None = None,
              extra: Sequence[str] = ()) -> FieldSpec | None:
        """``target`` from the first of ``names`` present, falling back row by row to the
        others present (and then to ``extra`` columns the adapter adds); None when there is
        none of them."""
        found = self.all(names) + list(extra)
        if not found:
            return None
        return FieldSpec(target=target, source=found[0], fallback=tuple(found[1:]),
                         values=values, transform=transform)

    def copies(self) -> set[str]:
        """Columns whose label is repeated in the header (``X`` and ``X (2)``, ``X (3)``…):
        which of them is the property is unknown, so each is kept in ``custom`` as well."""
        out: set[str] = set()
        for name in self.src.columns:
            m = COPY.match(name.strip())
            if m and m.group(1).lower() in self.by_lower:
                out |= {name, self.by_lower[m.group(1).lower()]}
        return out

    def stage_dates(self, families: Sequence[re.Pattern[str]], labels: str
                    ) -> list[tuple[str, str]]:
        """(stage, its date column) pairs. The stage is the internal value (a label no map
        knows, or a stage of a deal pipeline other than the default one, as written). For a
        stage several families name, the first family wins; the same stage label in two deal
        pipelines is two stages."""
        out: dict[tuple[str, str | None], str] = {}
        for pattern in families:
            for low, column in self.by_lower.items():
                m = pattern.match(low)
                if m:
                    pipeline = m.group(2) if m.re.groups > 1 and labels == "deal" else None
                    stage = self._stage_name(column, m.group(1), labels, pipeline)
                    out.setdefault((stage, pipeline), column)
        return [(stage, column) for (stage, _), column in out.items()]

    def _stage_name(self, column: str, matched: str, labels: str, pipeline: str | None
                    ) -> str:
        known = _LOWER_LABELS[labels].get(matched)
        if known and pipeline in (None, DEFAULT_PIPELINE):
            return known
        if column.strip().lower().startswith(("became", "date entered")):
            # a label no map knows (a custom stage): as the export writes it
            m = re.search(re.escape(matched), column.strip(), re.IGNORECASE)
            return m.group(0) if m else matched
        return matched

    def meta(self) -> list[str]:
        """The ELT tools' own bookkeeping columns (kept out of ``custom``)."""
        return [c for c in self.src.columns
                if c.strip().lower().startswith(("_fivetran_", "_airbyte_"))]
