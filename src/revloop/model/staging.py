"""Staging: one step per canonical entity, ``raw_<entity>`` → ``stg_<entity>``.

Staging only normalises: the bookkeeping columns of the raw table (``_key``, ``_hash``,
``_import_id``) are dropped, and e-mails and domains are trimmed and lower-cased (an empty
value becomes NULL). Every other column is kept as imported.
"""

from __future__ import annotations

import ibis

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step
from revloop.schema import ENTITIES, META_COLUMNS
from revloop.store.queries import trim

# Columns trimmed and lower-cased in staging, whatever the entity.
_LOWER_TRIM = frozenset({"email", "domain"})
_META = frozenset(name for name, _ in META_COLUMNS)


def stage(raw: ibis.Table) -> ibis.Table:
    """The canonical columns of a raw table, with e-mails and domains normalised."""
    return raw.select(**{col: _normalised(col, raw[col]) for col in raw.columns
                         if col not in _META})


def _normalised(column: str, value: ibis.Value) -> ibis.Value:
    if column not in _LOWER_TRIM:
        return value
    value = trim(value).lower()
    return ibis.ifelse(value == "", ibis.null("string"), value)


def _step(entity: str) -> Step:
    source = tables.raw(entity)

    def build(inputs: Inputs, options: BuildOptions) -> ibis.Table:
        return stage(inputs[source])

    build.__doc__ = f"``{tables.staging(entity)}``: ``{source}`` normalised."
    return Step(name=tables.staging(entity), inputs=(source,), build=build,
                doc=f"{entity} as imported, bookkeeping dropped, e-mails and domains normalised")


#: One staging step per canonical entity, in schema order.
STEPS: tuple[Step, ...] = tuple(_step(e.name) for e in ENTITIES)
