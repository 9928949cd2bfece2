"""Source adapters, by the name the CLI uses."""

from __future__ import annotations

from pathlib import Path

from revloop.errors import ConfigError
from revloop.ingest.adapters.base import Adapter

SOURCES = ("canonical", "salesforce", "hubspot", "mapped")


def get_adapter(source: str, *, entity: str | None = None, mapping: str | Path | None = None
                ) -> Adapter:
    """The adapter for ``source``; ``mapping`` is required for ``mapped``."""
    if source == "canonical":
        from revloop.ingest.adapters.canonical import CanonicalAdapter

        return CanonicalAdapter(entity)
    if source == "salesforce":
        from revloop.ingest.adapters.salesforce import SalesforceAdapter

        return SalesforceAdapter(entity)
    if source == "hubspot":
        from revloop.ingest.adapters.hubspot import HubSpotAdapter

        return HubSpotAdapter(entity)
    if source == "mapped":
        if mapping is None:
            raise ConfigError("'mapped' imports need --mapping FILE (a YAML mapping file)")
        from revloop.ingest.adapters.mapped import MappedAdapter

        return MappedAdapter.from_file(mapping)
    raise ConfigError(f"unknown source {source!r}; use one of: {', '.join(SOURCES)}")
