"""How the date columns of one file are read: the order of day and month, or a fixed format.

The order of ``02/03/2024`` cannot be told from one value; it is decided per file from the
whole file before any row is parsed (see :func:`plan_date_formats`):

* a numeric date (``/``, ``.`` or ``-`` between the parts) whose first part is over 12 can
  only be day first (``31/03/2024``), one whose second part is over 12 only month first
  (``03/31/2026``); one such value decides every date column of the file;
* values of both kinds in one file are an error naming a line of each (``mixed_date_order``);
* a file whose numeric dates all have day and month ≤ 12 is refused (``ambiguous_dates``):
  the order is never guessed; ``--dayfirst``/``--monthfirst`` or ``--date-format`` say it.

Two-digit years follow POSIX ``%y`` (as Python's ``strptime``): 69–99 are 1969–1999, 00–68
are 2000–2068.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from revloop.errors import InputFileError
from revloop.ingest.coerce import DEFAULT_TIMESTAMP_FORMATS
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec
from revloop.schema import ColumnType

#: An adapter's ``prepare(path, batch)``: adds the columns it derives (e.g. a Salesforce
#: task's time, the first of three date columns), which the pre-pass must see too.
Prepare = Callable[[Path, pa.RecordBatch], pa.RecordBatch]

_DATE_TYPES = (ColumnType.DATE, ColumnType.TIMESTAMP)
_TIME = r"(?:,?\s+\d{1,2}:\d\d(?::\d\d)?(?:\s*[AaPp][Mm])?)?"
_LOW = r"(?:0?[1-9]|1[0-2])"  # a day or a month
_HIGH = r"(?:1[3-9]|2\d|3[01])"  # only a day


def _numeric(first: str, second: str) -> str:
    """A whole numeric date (RE2, which has no back-references: one branch per separator);
    dashes need a 4-digit year (24-03-05 may be year first)."""
    year = r"(?:\d{4}|\d{2})"
    dates = [f"{first}/{second}/{year}", rf"{first}\.{second}\.{year}",
             rf"{first}-{second}-\d{{4}}"]
    return rf"^\s*(?:{'|'.join(dates)}){_TIME}\s*$"


_ANY = _numeric(r"\d{1,2}", r"\d{1,2}")
_DAYFIRST = _numeric(_HIGH, _LOW)  # 31/03/2024: only day first reads it
_MONTHFIRST = _numeric(_LOW, _HIGH)  # 03/31/2026
_EITHER = _numeric(_LOW, _LOW)  # 02/03/2024
_SHAPE = re.compile(
    r"\s*\d{1,2}(?P<sep>[/.-])\d{1,2}(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?P<time>(?P<comma>,?)\s+\d{1,2}:\d\d(?P<sec>:\d\d)?(?P<ampm>\s*[ap]m)?)?\s*",
    re.ASCII | re.IGNORECASE)
_ORDERED = re.compile(r"^\s*%[dm]\W%[dm]")  # an explicit format that already fixes the order
_EXAMPLES = 3
_SAMPLE = 1000  # values whose shape is read in Python when a batch has a new shape


class _Shape(NamedTuple):
    """How a numeric date is written, the order of day and month aside."""

    sep: str  # / . -
    year: int  # digits: 4 or 2
    comma: bool  # "3/5/2024, 2:22 PM" (Salesforce reports)
    time: str  # "", "%H:%M", "%H:%M:%S", "%I:%M %p" or "%I:%M:%S %p"

    def format(self, dayfirst: bool) -> str:
        """``%m/%d/%Y %I:%M %p`` and the like."""
        day = f"%d{self.sep}%m" if dayfirst else f"%m{self.sep}%d"
        date = f"{day}{self.sep}{'%Y' if self.year == 4 else '%y'}"
        return f"{date}{',' if self.comma else ''} {self.time}" if self.time else date

    def pattern(self) -> str:
        """The values of this shape (RE2)."""
        sep = re.escape(self.sep)
        date = rf"\d{{1,2}}{sep}\d{{1,2}}{sep}\d{{{self.year}}}"
        if not self.time:
            return date
        time = (r"\d{1,2}:\d\d" + (r":\d\d" if "%S" in self.time else "")
                + (r"\s*[AaPp][Mm]" if "%p" in self.time else ""))
        return date + ("," if self.comma else "") + r"\s+" + time


def _shape_of(value: str) -> _Shape | None:
    m = _SHAPE.fullmatch(value)
    if m is None or (m["sep"] == "-" and len(m["year"]) == 2):
        return None
    time = ""
    if m["time"]:
        hour = "%I" if m["ampm"] else "%H"
        time = f"{hour}:%M{':%S' if m['sec'] else ''}{' %p' if m['ampm'] else ''}"
    return _Shape(m["sep"], len(m["year"]), bool(m["comma"]), time)


@dataclass(frozen=True)
class DateOptions:
    """What the user said about the files' dates (``--date-format``, ``--dayfirst``)."""

    date_format: str | None = None  # a strptime format (or "iso") every date column is read with
    dayfirst: bool | None = None  # None: decided per file from the values


@dataclass
class _Evidence:
    """What the values of one source column say about the order of day and month."""

    column: str  # as the user knows it: the source column, or the canonical one it fills
    dayfirst_at: tuple[int, str] | None = None  # the first (line, value) only day-first reads
    monthfirst_at: tuple[int, str] | None = None
    examples: list[str] = field(default_factory=list)  # values both orders read
    shapes: set[_Shape] = field(default_factory=set)

    def observe(self, values: pa.Array, lines: pa.Array) -> None:
        """Take one batch of the column's values (text) into account: a few vectorised
        regex passes (DFA, no captures); Python reads only samples of unseen shapes."""
        numeric = pc.fill_null(pc.match_substring_regex(values, _ANY), False)
        if not pc.any(numeric).as_py():
            return  # the fast path: ISO, empty and other spellings
        self._learn_shapes(values, numeric)
        if self.dayfirst_at is None:
            self.dayfirst_at = _first(values, lines, _DAYFIRST)
        if self.monthfirst_at is None:  # searched in every batch, also once decided
            self.monthfirst_at = _first(values, lines, _MONTHFIRST)
        if len(self.examples) < _EXAMPLES:
            either = pc.fill_null(pc.match_substring_regex(values, _EITHER), False)
            seen = pc.unique(values.filter(either).slice(0, 50)).to_pylist()
            self.examples += [v.strip() for v in seen[: _EXAMPLES - len(self.examples)]]

    def _learn_shapes(self, values: pa.Array, numeric: pa.Array) -> None:
        """Add the shapes of the values no known shape matches (usually none after the
        first batch)."""
        while True:
            unknown = numeric
            if self.shapes:
                known = "|".join(s.pattern() for s in sorted(self.shapes))
                unknown = pc.and_(numeric, pc.invert(pc.fill_null(
                    pc.match_substring_regex(values, rf"^\s*(?:{known})\s*$"), True)))
            sample = values.filter(unknown).slice(0, _SAMPLE).to_pylist()
            new = {s for s in map(_shape_of, sample) if s is not None} - self.shapes
            if not new:
                return
            self.shapes |= new


def _first(values: pa.Array, lines: pa.Array, pattern: str) -> tuple[int, str] | None:
    """(line, value) of the first value ``pattern`` matches."""
    i = pc.index(pc.fill_null(pc.match_substring_regex(values, pattern), False), True).as_py()
    return None if i < 0 else (int(lines[i].as_py()), str(values[i].as_py()).strip())


@dataclass
class _Target:
    """A date column of one spec: the key of ``EntitySpec.formats`` and its source columns."""

    spec: int  # index in the specs
    key: str  # a canonical column, or a custom attribute checked as a date
    sources: list[str]
    explicit: Sequence[str] | None  # formats the adapter or mapping set


def plan_date_formats(src: SourceFile, specs: list[EntitySpec], options: DateOptions,
                      prepare: Prepare | None = None) -> list[EntitySpec]:
    """``specs`` with the date formats their date columns are read with in ``src``
    (``EntitySpec.formats``: canonical column → formats tried in order).

    ``--date-format`` replaces every format. Otherwise the file's date source columns are
    read once (only a vectorised regex on each value: ISO values cost next to nothing) to
    find the numeric spellings and the order of day and month, and each date column gets
    its explicit formats (or the defaults: ISO first) plus the file's numeric formats.
    ``prepare`` (the adapter's) is used only when a date column is one the
    adapter derives. Raises InputFileError ``ambiguous_dates`` or ``mixed_date_order``.
    """
    if {c for s in specs for c in s.required} - set(src.columns):
        return specs  # the pipeline refuses the file (missing_column): no need to read it
    targets = _targets(specs)
    if options.date_format is not None:
        fixed = ["iso"] if options.date_format.strip().lower() == "iso" else [options.date_format]
        return _with_formats(specs, {(t.spec, t.key): fixed for t in targets})
    evidence = _scan(src, [t for t in targets if not _order_fixed(t.explicit)], prepare)
    dayfirst = _decide(str(src.path), list(evidence.values()), options.dayfirst)
    if options.dayfirst is None:
        src.date_order = _decided_by(list(evidence.values()))
    planned: dict[tuple[int, str], list[str]] = {}
    for t in targets:
        if _order_fixed(t.explicit):
            continue  # the mapping said how this column is written: keep it as it is
        shapes = set().union(*(evidence[s].shapes for s in t.sources if s in evidence))
        planned[(t.spec, t.key)] = _formats(t.explicit, sorted(shapes), dayfirst)
    return _with_formats(specs, planned)


def _targets(specs: list[EntitySpec]) -> list[_Target]:
    """Every date column of every spec, with the source columns that fill it."""
    out = []
    for i, spec in enumerate(specs):
        names = [c.name for c in spec.schema.columns if c.type in _DATE_TYPES]
        for name in names:
            sources = [c for f in spec.fields if f.target == name
                       for c in (f.source, *f.fallback) if c]
            sources += [u.column for u in spec.unpivot if u.target == name]
            out.append(_Target(i, name, sources, spec.formats.get(name)))
        out += [_Target(i, name, [name], spec.formats.get(name))
                for name, kind in spec.checks.items() if kind in _DATE_TYPES
                and name not in names]
    return out


def _order_fixed(formats: Sequence[str] | None) -> bool:
    return formats is not None and any(_ORDERED.match(f) for f in formats)


def _with_formats(specs: list[EntitySpec], formats: dict[tuple[int, str], list[str]]
                  ) -> list[EntitySpec]:
    out = []
    for i, spec in enumerate(specs):
        mine = {key: f for (j, key), f in formats.items() if j == i}
        out.append(replace(spec, formats={**spec.formats, **mine}) if mine else spec)
    return out


def _formats(explicit: Sequence[str] | None, shapes: list[_Shape], dayfirst: bool | None
             ) -> list[str]:
    """Explicit formats then the file's numeric ones; or ISO, the numeric ones (the column's
    usual spelling when it has any) and the other defaults."""
    numeric = [] if dayfirst is None else list(dict.fromkeys(s.format(dayfirst) for s in shapes))
    if explicit is not None:
        return [*explicit, *(f for f in numeric if f not in explicit)]
    return ["iso", *numeric, *(f for f in DEFAULT_TIMESTAMP_FORMATS if f != "iso")]


# -- the pre-pass ---------------------------------------------------------------------------

def _scan(src: SourceFile, targets: list[_Target], prepare: Prepare | None
          ) -> dict[str, _Evidence]:
    """The evidence of every source column of ``targets``, from every value of the file."""
    evidence: dict[str, _Evidence] = {}
    for t in targets:
        for s in t.sources:
            label = s if s in src.columns else t.key  # a derived column: name what it fills
            evidence.setdefault(s, _Evidence(label))
    if not evidence:
        return evidence
    for batch in _batches(src, list(evidence), prepare):
        names = set(batch.schema.names)
        lines = batch.column("_line")
        for name, ev in evidence.items():
            text = _as_text(batch.column(name)) if name in names else None
            if text is not None:
                ev.observe(text, lines)
    return evidence


def _as_text(values: pa.Array) -> pa.Array | None:
    """Text values as a string array; None for typed ones (a Parquet timestamp has no order
    to decide)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    return values if pa.types.is_string(values.type) else None


def _batches(src: SourceFile, columns: list[str], prepare: Prepare | None
             ) -> Iterator[pa.RecordBatch]:
    """The file read again from the start, into a copy of ``src``: the pipeline's own
    reading (its counts, quarantined rows, notices) is not touched."""
    derived = [c for c in columns if c not in src.columns]
    if src.format == "parquet" and not (derived and prepare):
        yield from _parquet_columns(src, columns)  # columnar: only the date columns
        return
    again = replace(src, columns=list(src.columns), bad_rows=[], notices=[], rows_read=0,
                    _short_rows=[])
    for batch in again.batches():
        if derived and prepare is not None:
            batch = prepare(src.path, batch)
            # an adapter that derives none of them needs no second call
            derived = [c for c in derived if c in batch.schema.names]
        yield batch


def _parquet_columns(src: SourceFile, columns: list[str]) -> Iterator[pa.RecordBatch]:
    try:
        pf = pq.ParquetFile(str(src.path))
        schema = pf.schema_arrow
        wanted = [c for c in columns if c in schema.names
                  and _as_text(pa.nulls(0, schema.field(c).type)) is not None]
        if not wanted:
            return
        line = 1
        for batch in pf.iter_batches(batch_size=src.options.batch_rows, columns=wanted):
            lines = pa.array(np.arange(line, line + batch.num_rows, dtype=np.int64))
            line += batch.num_rows
            yield pa.RecordBatch.from_arrays([*batch.columns, lines],
                                             names=[*batch.schema.names, "_line"])
    except (OSError, pa.ArrowException) as exc:
        raise InputFileError(str(src.path), f"cannot read the Parquet file: {exc}",
                             code="unreadable_file") from exc


# -- the decision ---------------------------------------------------------------------------

_HOW = ("pass --dayfirst or --monthfirst (or --date-format, e.g. '%m/%d/%Y') to read the file "
        "one way: values that do not fit it are quarantined")


def _decide(path: str, evidence: list[_Evidence], dayfirst: bool | None) -> bool | None:
    """True: day first, False: month first, None: the file has no numeric date."""
    if dayfirst is not None:
        return dayfirst  # the user said so: values that disagree are quarantined
    for ev in evidence:
        if ev.dayfirst_at and ev.monthfirst_at:
            raise InputFileError(
                path, f"column {ev.column!r} has dates only day-first reads "
                f"({_at(ev.dayfirst_at)}) and dates only month-first reads "
                f"({_at(ev.monthfirst_at)}); correct the file, or {_HOW}",
                code="mixed_date_order")
    day = next((ev for ev in evidence if ev.dayfirst_at), None)
    month = next((ev for ev in evidence if ev.monthfirst_at), None)
    if day and month and day.dayfirst_at and month.monthfirst_at:
        raise InputFileError(
            path, f"column {day.column!r} is written day first ({_at(day.dayfirst_at)}) but "
            f"column {month.column!r} month first ({_at(month.monthfirst_at)}); correct the "
            f"file, or {_HOW}", code="mixed_date_order")
    if day or month:
        return day is not None
    vague = [ev for ev in evidence if ev.examples]
    if vague:
        examples = ", ".join(v for ev in vague for v in ev.examples)
        columns = ", ".join(repr(ev.column) for ev in vague)
        raise InputFileError(
            path, f"cannot tell whether the dates of column{'s' if len(vague) > 1 else ''} "
            f"{columns} are day/month or month/day: no value has a day over 12 (e.g. "
            f"{examples}); pass --dayfirst or --monthfirst, or --date-format "
            "(e.g. '%m/%d/%Y')", code="ambiguous_dates")
    return None


def _decided_by(evidence: list[_Evidence]) -> tuple[bool, str] | None:
    """(day first?, the first value that decided it) when the file's values decided."""
    for ev in evidence:
        if ev.dayfirst_at:
            return True, _at(ev.dayfirst_at)
        if ev.monthfirst_at:
            return False, _at(ev.monthfirst_at)
    return None


def _at(where: tuple[int, str]) -> str:
    return f"line {where[0]}: {where[1]!r}"
