"""Source adapters, by the name the CLI uses."""

from __future__ import annotations

from pathlib import Path

from revloop.errors import ConfigError
from revloop.ingest.adapters.base import Adapter
from revloop.settings import ImportSettings

SOURCES = ("canonical", "salesforce", "hubspot", "mapped")
#: Table layouts of ELT tools that sync CRM objects into a warehouse (``--layout``).
LAYOUTS = ("fivetran", "airbyte")


def get_adapter(source: str, *, entity: str | None = None, mapping: str | Path | None = None,
                layout: str | None = None, settings: ImportSettings | None = None) -> Adapter:
    """The adapter for ``source``; ``mapping`` is required for ``mapped``; ``layout`` (one of
    :data:`LAYOUTS`, for ``salesforce`` and ``hubspot``) says the files are an ELT tool's
    tables rather than the CRM's own export; ``settings`` is ``[import]`` of revloop.toml."""
    if layout is not None and (layout not in LAYOUTS or source not in ("salesforce", "hubspot")):
        raise ConfigError(f"--layout {layout!r} is not known for {source!r}; layouts "
                          f"{', '.join(LAYOUTS)} are for salesforce and hubspot files")
    if source == "canonical":
        from revloop.ingest.adapters.canonical import CanonicalAdapter

        return CanonicalAdapter(entity)
    if source == "salesforce":
        from revloop.ingest.adapters.salesforce import LEAD_STATUS_STAGES, SalesforceAdapter

        sf = (settings or ImportSettings()).salesforce
        statuses = {k.strip().lower(): v for k, v in
                    {**LEAD_STATUS_STAGES, **sf.lead_statuses}.items()}  # the org's win
        if sf.loss_reason_fields is None:
            return SalesforceAdapter(entity, layout, lead_statuses=statuses)
        return SalesforceAdapter(entity, layout, lead_statuses=statuses,
                                 loss_reason_fields=sf.loss_reason_fields)
    if source == "hubspot":
        from revloop.ingest.adapters.hubspot import HubSpotAdapter

        return HubSpotAdapter(entity, layout)
    if source == "mapped":
        if mapping is None:
            raise ConfigError("'mapped' imports need --mapping FILE (a YAML mapping file)")
        from revloop.ingest.adapters.mapped import MappedAdapter

        return MappedAdapter.from_file(mapping)
    raise ConfigError(f"unknown source {source!r}; use one of: {', '.join(SOURCES)}")
