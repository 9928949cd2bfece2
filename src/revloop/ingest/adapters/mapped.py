"""Any CSV/Parquet/JSON-lines file, mapped to canonical entities by a YAML mapping file.

A mapping names, for each input file pattern, the entities it yields and how each canonical
column is filled: ``column`` (a source column), ``const``, ``template`` ("deal-{id}"),
``values`` (a value map), ``transform`` (lower, strip, domain, snake_case) and ``format``
(date formats; ``date_format`` on a file or an entity covers all its date columns). Unmapped
source columns become custom attributes (``custom: rest``).
See ``docs/mapping.md`` and ``examples/*.yaml``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from revloop.errors import ConfigError, InputFileError
from revloop.ingest.adapters.base import Adapter
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import TRANSFORMS, EntitySpec, FieldSpec
from revloop.schema import ENTITY_BY_NAME, ColumnType

_TYPE_NAMES = ", ".join(t.value for t in ColumnType)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldMap(_Strict):
    """How one canonical column is filled."""

    column: str | None = None
    const: str | int | float | bool | None = None
    template: str | None = None
    values: dict[str, str | int | float | bool | None] | None = None
    transform: str | None = None
    format: str | list[str] | None = None

    @field_validator("transform")
    @classmethod
    def _known_transform(cls, v: str | None) -> str | None:
        if v is not None and v not in TRANSFORMS:
            raise ValueError(f"unknown transform {v!r}; use one of {', '.join(TRANSFORMS)}")
        return v


class EntityMap(_Strict):
    """One canonical entity produced from a file."""

    entity: str
    fields: dict[str, str | FieldMap]
    custom: Literal["rest", "none"] | list[str] = "none"
    where: str | None = None
    where_values: list[str] | None = None
    types: dict[str, str] = Field(default_factory=dict)
    date_format: str | list[str] | None = None  # every date column without its own format

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, v: str) -> str:
        if v not in ENTITY_BY_NAME:
            raise ValueError(f"unknown entity {v!r}; use one of {', '.join(ENTITY_BY_NAME)}")
        return v

    @field_validator("types")
    @classmethod
    def _known_types(cls, v: dict[str, str]) -> dict[str, str]:
        for col, name in v.items():
            if name not in {t.value for t in ColumnType}:
                raise ValueError(
                    f"unknown column type {name!r} for {col!r}; expected one of {_TYPE_NAMES}"
                )
        return v


class FileMap(_Strict):
    """The entities one kind of input file yields."""

    match: str  # file-name glob, e.g. "olist_closed_deals*.csv"
    sep: str | None = None
    encoding: str | None = None
    null_values: list[str] = Field(default_factory=list)  # e.g. ["Select", "N/A"]
    date_format: str | list[str] | None = None  # every date column of the file's entities
    entities: list[EntityMap]


class Mapping(_Strict):
    """A whole mapping file."""

    name: str
    description: str | None = None
    source: str = "mapped"
    files: list[FileMap]


def load_mapping(path: str | Path) -> Mapping:
    """Parse and validate a mapping file; ConfigError pointing at the bad entry otherwise."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: mapping file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{p}: {where}: {first['msg']}") from exc
    for fm in mapping.files:
        for em in fm.entities:
            ent = ENTITY_BY_NAME[em.entity]
            for target in em.fields:
                if target not in ent.column_names:
                    raise ConfigError(
                        f"{p}: {fm.match} → {em.entity}: no canonical column {target!r}; "
                        f"columns: {', '.join(ent.column_names)}"
                    )
    return mapping


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class MappedAdapter(Adapter):
    """Runs a :class:`Mapping` on the files whose names match its patterns."""

    def __init__(self, mapping: Mapping, origin: str = "<mapping>") -> None:
        self.mapping = mapping
        self.origin = origin
        self.source = mapping.source

    @classmethod
    def from_file(cls, path: str | Path) -> MappedAdapter:
        return cls(load_mapping(path), str(path))

    def file_map(self, path: Path) -> FileMap:
        for fm in self.mapping.files:
            if fnmatch.fnmatch(path.name, fm.match):
                return fm
        patterns = ", ".join(f.match for f in self.mapping.files)
        raise InputFileError(str(path), f"no entry of mapping {self.origin} matches this file "
                             f"name (patterns: {patterns})", code="unmapped_file")

    def read_options_for(self, path: Path) -> dict[str, Any]:
        """Delimiter/encoding the mapping sets for this file."""
        fm = self.file_map(path)
        return {k: v for k, v in (("delimiter", fm.sep), ("encoding", fm.encoding)) if v}

    def specs_for(self, src: SourceFile) -> list[EntitySpec]:
        fm = self.file_map(src.path)
        specs = []
        for em in fm.entities:
            fields: list[FieldSpec] = []
            required: list[str] = []
            for target, fmap in em.fields.items():
                f = FieldMap(column=fmap) if isinstance(fmap, str) else fmap
                fields.append(FieldSpec(
                    target=target, source=f.column, const=_text(f.const),
                    template=f.template, transform=f.transform,
                    values=None if f.values is None else {
                        k: _text(v) for k, v in f.values.items()},
                ))
                if f.column:
                    required.append(f.column)
            if "source" not in em.fields:
                fields.append(FieldSpec(target="source", const=self.mapping.name))
            if em.where:
                required.append(em.where)
            custom: bool | list[str] = (
                True if em.custom == "rest" else False if em.custom == "none" else em.custom
            )
            specs.append(EntitySpec(em.entity, fields, custom=custom,
                                    formats=date_formats(em, fm.date_format),
                                    where=em.where, where_values=em.where_values,
                                    required=required,
                                    checks={c: ColumnType(t) for c, t in em.types.items()}))
        return specs

    def prepare(self, path: Path, batch: pa.RecordBatch) -> pa.RecordBatch:
        return blank_null_values(batch, self.file_map(path).null_values)


def _formats(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def date_formats(em: EntityMap, file_default: str | list[str] | None = None
                 ) -> dict[str, Sequence[str]]:
    """The explicit date formats of an entity's columns (canonical, or custom attributes
    typed ``date``/``timestamp``): a field's ``format``, else the entity's ``date_format``,
    else the file's. A format that puts day or month first fixes that column's order; the
    other date columns are still planned from the file's values (see ``ingest.dates``)."""
    default = em.date_format if em.date_format is not None else file_default
    out: dict[str, Sequence[str]] = {}
    dated = {c.name for c in ENTITY_BY_NAME[em.entity].columns
             if c.type in (ColumnType.DATE, ColumnType.TIMESTAMP)}
    dated |= {c for c, t in em.types.items() if t in ("date", "timestamp")}
    for target, fmap in em.fields.items():
        own = fmap.format if isinstance(fmap, FieldMap) else None
        if own:
            out[target] = _formats(own)
        elif default and target in dated:
            out[target] = _formats(default)
    if default:
        out.update({c: _formats(default) for c in sorted(dated - set(em.fields))
                    if c in em.types})
    return out


def blank_null_values(batch: pa.RecordBatch, values: list[str]) -> pa.RecordBatch:
    """Replace placeholder values such as "Select" with empty ones in every text column."""
    if not values:
        return batch
    marks = pa.array(values, pa.string())
    arrays = []
    for col in batch.columns:
        if pa.types.is_string(col.type):
            col = pc.if_else(pc.is_in(col, marks), None, col)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
