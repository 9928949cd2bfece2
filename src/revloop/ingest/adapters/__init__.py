"""Source adapters, by the name the CLI uses."""

from __future__ import annotations

from pathlib import Path

from revloop.errors import ConfigError
from revloop.ingest.adapters.base import Adapter

SOURCES = ("canonical", "salesforce", "hubspot", "mapped")
#: Table layouts of ELT tools that sync CRM objects into a warehouse (``--layout``).
LAYOUTS = ("fivetran", "airbyte")


def get_adapter(source: str, *, entity: str | None = None, mapping: str | Path | None = None,
                layout: str | None = None) -> Adapter:
    """The adapter for ``source``; ``mapping`` is required for ``mapped``; ``layout`` (one of
    :data:`LAYOUTS`, for ``salesforce`` and ``hubspot``) says the files are an ELT tool's
    tables rather than the CRM's own export."""
    if layout is not None and (layout not in LAYOUTS or source not in ("salesforce", "hubspot")):
        raise ConfigError(f"--layout {layout!r} is not known for {source!r}; layouts "
                          f"{', '.join(LAYOUTS)} are for salesforce and hubspot files")
    if source == "canonical":
        from revloop.ingest.adapters.canonical import CanonicalAdapter

        return CanonicalAdapter(entity)
    if source == "salesforce":
        from revloop.ingest.adapters.salesforce import SalesforceAdapter

        return SalesforceAdapter(entity, layout)
    if source == "hubspot":
        from revloop.ingest.adapters.hubspot import HubSpotAdapter

        return HubSpotAdapter(entity, layout)
    if source == "mapped":
        if mapping is None:
            raise ConfigError("'mapped' imports need --mapping FILE (a YAML mapping file)")
        from revloop.ingest.adapters.mapped import MappedAdapter

        return MappedAdapter.from_file(mapping)
    raise ConfigError(f"unknown source {source!r}; use one of: {', '.join(SOURCES)}")
