"""Canonical files: one file per entity, named after it, columns named as in the schema."""

from __future__ import annotations

from revloop.errors import InputFileError
from revloop.ingest.adapters.base import Adapter, match_object
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec, FieldSpec
from revloop.schema import ENTITY_BY_NAME

_OBJECTS = {name: name for name in ENTITY_BY_NAME} | {
    name.rstrip("s"): name for name in ENTITY_BY_NAME if name.endswith("s")
}


class CanonicalAdapter(Adapter):
    """Columns are the canonical ones; extra columns go to ``custom``/``properties`` where the
    entity has one, and are refused otherwise (they are most likely typos)."""

    source = "canonical"

    def __init__(self, entity: str | None = None) -> None:
        self.entity = entity

    def specs_for(self, src: SourceFile) -> list[EntitySpec]:
        name = match_object(src.path, _OBJECTS, self.entity, "canonical")
        ent = ENTITY_BY_NAME[name]
        known = [c for c in src.columns if c in ent.column_names]
        extra = [c for c in src.columns if c not in ent.column_names]
        has_bag = "custom" in ent.column_names or "properties" in ent.column_names
        if extra and not has_bag:
            raise InputFileError(
                str(src.path),
                f"unknown column{'s' if len(extra) > 1 else ''} "
                f"{', '.join(repr(c) for c in extra)} for {name}; expected columns: "
                f"{', '.join(ent.column_names)}",
                code="unknown_column",
            )
        fields = [FieldSpec(target=c, source=c) for c in known]
        if not any(f.target == "source" for f in fields):
            fields.append(FieldSpec(target="source", const="canonical"))
        required = [c.name for c in ent.columns if c.required]
        return [EntitySpec(name, fields, custom=extra if extra else False, required=required)]
