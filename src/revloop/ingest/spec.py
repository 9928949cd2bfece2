"""Declarative column mapping from a source file to canonical entities.

Every adapter (canonical, Salesforce, HubSpot, YAML-mapped) describes its files with these
specs; :func:`apply_spec` runs them on an Arrow batch, vectorised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from revloop.ingest import rowproblems
from revloop.ingest.coerce import json_objects
from revloop.ingest.custom import merge_extra
from revloop.schema import ColumnType, Entity, entity

Transform = Callable[[pa.Array], pa.Array]
CHECK_PREFIX = "__check__"  # source columns carried along only to be type-checked


def _lower(a: pa.Array) -> pa.Array:
    return pc.utf8_lower(pc.utf8_trim_whitespace(a))


def _strip(a: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(a)


def _domain(a: pa.Array) -> pa.Array:
    """``https://www.Acme.com/about`` → ``acme.com``; also accepts an e-mail address."""
    low = _lower(a)
    no_mail = pc.replace_substring_regex(low, r"^.*@", "")
    no_scheme = pc.replace_substring_regex(no_mail, r"^[a-z][a-z0-9+.-]*://", "")
    no_www = pc.replace_substring_regex(no_scheme, r"^www\.", "")
    return pc.replace_substring_regex(no_www, r"[/:?#].*$", "")


def _snake(a: pa.Array) -> pa.Array:
    """``Paid Search`` → ``paid_search``."""
    low = _lower(a)
    return pc.replace_substring_regex(pc.replace_substring_regex(low, r"[^a-z0-9]+", "_"),
                                      r"^_+|_+$", "")


TRANSFORMS: dict[str, Transform] = {
    "lower": _lower, "strip": _strip, "domain": _domain, "snake_case": _snake,
}


@dataclass
class FieldSpec:
    """How one canonical column is filled."""

    target: str
    source: str | None = None  # source column
    const: str | None = None  # constant value (when no source, or when the source is empty)
    values: dict[str, str | None] | None = None  # value map, matched case-insensitively
    transform: str | Transform | None = None
    template: str | None = None  # e.g. "sf-{Id}" (source columns in braces)
    fallback: Sequence[str] = ()  # columns tried in order where ``source`` is empty

    def source_columns(self) -> list[str]:
        cols = [self.source, *self.fallback] if self.source else list(self.fallback)
        if self.template:
            cols += _template_columns(self.template)
        return cols


@dataclass
class UnpivotSpec:
    """Several source columns become several rows (e.g. one transition per stage-date column)."""

    column: str  # the source column giving this row's value (rows where it is empty are skipped)
    consts: dict[str, str]  # canonical columns set to constants on these rows
    target: str  # the canonical column that receives the source value


@dataclass
class EntitySpec:
    """One canonical entity produced from a source file."""

    entity: str
    fields: list[FieldSpec]
    custom: bool | Sequence[str] = False  # True: every unmapped source column into custom
    formats: dict[str, Sequence[str]] = field(default_factory=dict)
    where: str | None = None  # only rows where this source column is non-empty (or true)
    where_values: Sequence[str] | None = None  # …and, if given, equals one of these
    unpivot: list[UnpivotSpec] = field(default_factory=list)
    required: Sequence[str] = ()  # source columns that must be in the header
    checks: dict[str, ColumnType] = field(default_factory=dict)  # custom columns' types

    @property
    def schema(self) -> Entity:
        return entity(self.entity)

    def source_columns(self) -> set[str]:
        cols = {c for f in self.fields for c in f.source_columns()}
        cols |= {u.column for u in self.unpivot}
        if self.where:
            cols.add(self.where)
        if not isinstance(self.custom, bool):
            cols |= set(self.custom)
        return cols


def _template_columns(template: str) -> list[str]:
    import re

    return re.findall(r"\{([^{}]+)\}", template)


def _text(batch: pa.RecordBatch, name: str) -> pa.Array:
    col = batch.column(name)
    return col if pa.types.is_string(col.type) else col.cast(pa.string())


def _empty(a: pa.Array) -> pa.Array:
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(a), ""), True) if pa.types.is_string(
        a.type) else pc.is_null(a)


def _field(spec: FieldSpec, batch: pa.RecordBatch, n: int, present: set[str]) -> pa.Array:
    values = _source_values(spec, batch, n, present)
    values = _with_fallbacks(values, spec.fallback, batch, present)
    if spec.values is not None:
        values = _map_values(values, spec.values)
    if spec.transform is not None:
        fn = TRANSFORMS[spec.transform] if isinstance(spec.transform, str) else spec.transform
        values = fn(_as_text(values))
    if spec.const is not None:
        return _with_const(spec, spec.const, values, n)
    return values


def _as_text(values: pa.Array) -> pa.Array:
    return values if pa.types.is_string(values.type) else values.cast(pa.string())


def _source_values(spec: FieldSpec, batch: pa.RecordBatch, n: int,
                   present: set[str]) -> pa.Array:
    """The template filled in, else the source column, else all nulls (a source the file
    lacks)."""
    if spec.template:
        return _fill_template(spec.template, batch)
    if spec.source and spec.source in present:
        return batch.column(spec.source)
    return pa.nulls(n, pa.string())


def _fill_template(template: str, batch: pa.RecordBatch) -> pa.Array:
    """``"sf-{Id}"`` → ``sf-`` joined to each row's ``Id`` (a null anywhere: null)."""
    import re

    parts: list[object] = []
    for piece in re.split(r"(\{[^{}]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            parts.append(_text(batch, piece[1:-1]))
        elif piece:
            parts.append(piece)
    values: pa.Array = pc.binary_join_element_wise(*parts, "")
    return values


def _with_fallbacks(values: pa.Array, fallback: Sequence[str], batch: pa.RecordBatch,
                    present: set[str]) -> pa.Array:
    """Empty values taken from the ``fallback`` columns the file has, in order."""
    for other in fallback:
        if other in present:
            text = _as_text(values)
            values = pc.if_else(_empty(text), _text(batch, other), text)
    return values


def _with_const(spec: FieldSpec, const: str, values: pa.Array, n: int) -> pa.Array:
    """The constant alone for a field without a source or template; else where empty."""
    constant = pa.array([const] * n, pa.string())
    if spec.source is None and spec.template is None:
        return constant
    text = _as_text(values)
    return pc.if_else(_empty(text), constant, text)


def _map_values(values: pa.Array, mapping: dict[str, str | None]) -> pa.Array:
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    low = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    keys = [k.strip().lower() for k in mapping]
    mapped = pa.array(list(mapping.values()), pa.string())
    idx = pc.index_in(low, value_set=pa.array(keys, pa.string()))
    hit = pc.is_valid(idx)
    return pc.if_else(hit, pc.take(mapped, pc.fill_null(idx, 0)), text)


def apply_spec(spec: EntitySpec, batch: pa.RecordBatch, mapped_elsewhere: set[str]) -> (
        pa.RecordBatch):
    """Canonical columns (text or typed) plus ``_line`` for the rows this spec produces."""
    present = set(batch.schema.names)
    if spec.where and spec.where in present:
        cond = batch.column(spec.where)
        keep = pc.invert(_empty(cond))
        if spec.where_values is not None:
            allowed = pa.array([v.lower() for v in spec.where_values], pa.string())
            keep = pc.and_(keep, pc.is_in(pc.utf8_lower(_text(batch, spec.where)), allowed))
        batch = batch.filter(pc.fill_null(keep, False))
    if spec.unpivot:
        parts = [_unpivot_part(spec, u, batch, present)
                 for u in spec.unpivot if u.column in present]
        parts = [p for p in parts if p.num_rows]
        if not parts:
            return _project(spec, batch.slice(0, 0), present, mapped_elsewhere)
        table = pa.Table.from_batches(rowproblems.align(parts)).combine_chunks()
        return table.to_batches()[0] if table.num_rows else parts[0]
    return _project(spec, batch, present, mapped_elsewhere)


def _unpivot_part(
    spec: EntitySpec, u: UnpivotSpec, batch: pa.RecordBatch, present: set[str]
) -> pa.RecordBatch:
    rows = batch.filter(pc.invert(_empty(batch.column(u.column))))
    fields = [f for f in spec.fields if f.target not in u.consts and f.target != u.target]
    fields += [FieldSpec(target=k, const=v) for k, v in u.consts.items()]
    fields.append(FieldSpec(target=u.target, source=u.column))
    sub = EntitySpec(spec.entity, fields, formats=spec.formats, checks=spec.checks)
    return _project(sub, rows, present, set())


def _project(
    spec: EntitySpec, batch: pa.RecordBatch, present: set[str], mapped_elsewhere: set[str]
) -> pa.RecordBatch:
    n = batch.num_rows
    columns = {f.target: _field(f, batch, n, present) for f in spec.fields}
    problems: list[rowproblems.RowProblem] = []
    bag, extra = _bag_and_extra(spec, batch, present, mapped_elsewhere)
    if bag and extra:
        values = {c: batch.column(c) for c in extra}
        if bag in columns:  # the file gives the object too: merge, never drop either
            columns[bag], problems = merge_extra(bag, columns[bag], values)
        else:
            columns[bag] = json_objects(values, n)
    for col in spec.checks:
        if col in present:
            columns[CHECK_PREFIX + col] = batch.column(col)
    used = {c for f in spec.fields for c in f.source_columns()} | set(extra)
    checked = [c for c in batch.schema.names if c in used or c == spec.where]
    problems = rowproblems.nul_bytes(batch, checked) + problems
    columns["_line"] = batch.column("_line")
    return rowproblems.with_markers(
        list(columns.values()), [pa.field(k, v.type) for k, v in columns.items()], problems)


def _bag_and_extra(spec: EntitySpec, batch: pa.RecordBatch, present: set[str],
                   mapped_elsewhere: set[str]) -> tuple[str | None, list[str]]:
    """The entity's column for extra source columns (``custom``/``properties``, when the spec
    keeps extras) and the source columns that go into it."""
    names = spec.schema.column_names
    bag = "custom" if "custom" in names else "properties" if "properties" in names else None
    if not spec.custom or bag is None:
        return None, []
    if spec.custom is True:
        used = {c for f in spec.fields for c in f.source_columns()} | mapped_elsewhere
        return bag, [c for c in batch.schema.names if c not in used and c != "_line"]
    return bag, [c for c in spec.custom if c in present]
