"""The ``data_issues`` mart: every reference that points to nothing.

Orphan references are kept in the marts and listed here, one row per referencing row and
column; a later import of the referenced rows clears the flag. References are checked against
the marts as built, after identity resolution: a reference to a merged person's old id has
been re-pointed to the survivor, so it is not an issue.
"""

from __future__ import annotations

from collections.abc import Iterator

import ibis
from ibis import _
from ibis.expr.types import StringValue

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step
from revloop.schema import ENTITIES, ENTITY_BY_NAME, Column, Entity

# References not checked: a converted lead's contact is folded into the contact itself.
_NOT_CHECKED = frozenset({(tables.CONTACTS, "converted_contact_id")})


def _references(ent: Entity, columns: tuple[str, ...]) -> Iterator[tuple[Column, Entity]]:
    """The referencing columns of ``ent`` present in its mart, with the entity they name."""
    for col in ent.columns:
        if not col.references or col.name not in columns:
            continue
        if (ent.name, col.name) in _NOT_CHECKED:
            continue
        yield col, ENTITY_BY_NAME[col.references]


def _entity_key(rows: ibis.Table, ent: Entity) -> StringValue:
    """The natural key of ``ent`` as one string (``a / b`` for a composite key)."""
    if len(ent.key) == 1:
        return rows[ent.key[0]].cast("string")
    parts = [rows[k].cast("string") for k in ent.key]
    key = parts[0]
    for part in parts[1:]:
        key = key.concat(" / ", ibis.coalesce(part, ""))
    return key.cast("string")


def _orphans(inputs: Inputs, ent: Entity, col: Column, target: Entity) -> ibis.Table:
    table = inputs[ent.name]
    keys = inputs[target.name].select(k=_[target.key[0]])
    orphan = table.filter(table[col.name].notnull()).anti_join(keys, table[col.name] == keys.k)
    return orphan.select(
        entity=ibis.literal(ent.name), entity_key=_entity_key(orphan, ent),
        column_name=ibis.literal(col.name), value=orphan[col.name].cast("string"),
        issue=ibis.literal(f"no {target.name} with this {target.key[0]}"),
    )


def data_issues(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """One row per orphan reference: entity, entity key, column, value and the issue."""
    parts = [
        _orphans(inputs, ent, col, target)
        for ent in ENTITIES
        for col, target in _references(ent, tuple(inputs[ent.name].columns))
    ]
    return ibis.union(*parts, distinct=False)


STEP = Step(
    name=tables.DATA_ISSUES, inputs=tables.ENTITY_MARTS, build=data_issues,
    doc="every reference to a row that does not exist, kept in the marts and listed here",
)
