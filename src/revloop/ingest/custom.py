"""Extra source columns merged into a ``custom``/``properties`` JSON object the file already
gives, vectorised.

A row's own object keeps its keys and text; the extra columns' non-empty values follow as
string members, in file order. A key that is in the row's object *and* is an extra column with
a value would leave one of the two values behind, so that row is quarantined
(``custom_key_clash``) instead of guessing which one wins.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revloop.ingest.coerce import json_objects
from revloop.ingest.rowproblems import RowProblem

_NULL = pa.scalar(None, pa.string())


def merge_extra(bag: str, given: pa.Array, extras: dict[str, pa.Array]
                ) -> tuple[pa.Array, list[RowProblem]]:
    """``given`` (the file's own ``bag`` column) with ``extras`` merged into each object, and
    the rows where a key is in both."""
    n = len(given)
    built = json_objects(extras, n)
    try:
        text = given if pa.types.is_string(given.type) else given.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return given, []  # a nested Parquet column: coerce refuses its type for the whole file
    trimmed = pc.utf8_trim_whitespace(text)
    is_object = pc.fill_null(
        pc.and_(pc.starts_with(trimmed, "{"), pc.ends_with(trimmed, "}")), False)
    use_built = pc.fill_null(pc.or_(pc.equal(trimmed, ""),
                                    pc.match_substring_regex(trimmed, r"^\{\s*\}$")), True)
    # '{"a": 1}' + '"k":"v"}' → '{"a": 1,"k":"v"}': the row's object without its closing
    # brace, a comma, then the built object without its opening one.
    head = pc.replace_substring_regex(trimmed, r"\s*\}$", "")
    joined = pc.binary_join_element_wise(head, pc.utf8_slice_codeunits(built, 1), ",")
    merged = pc.if_else(use_built, built, pc.if_else(is_object, joined, text))
    # Rows without extra values, and values that are not objects (coerce quarantines them),
    # keep their text untouched.
    merged = pc.if_else(pc.is_valid(built), merged, text)
    return merged, _clashes(bag, trimmed, is_object, extras)


def _clashes(bag: str, trimmed: pa.Array, is_object: pa.Array,
             extras: dict[str, pa.Array]) -> list[RowProblem]:
    """Rows whose object has a key named like an extra column that has a value there.

    A substring test finds the candidates; only those are parsed (rare: the key's name
    appears in the object's text)."""
    out = []
    for name, values in extras.items():
        text = values if pa.types.is_string(values.type) else values.cast(pa.string())
        # as json_objects decides: a value is left out only when it is NULL or ""
        filled = pc.fill_null(pc.not_equal(text, ""), False)
        quoted = json.dumps(name, ensure_ascii=False)
        candidate = pc.and_(pc.and_(is_object, filled),
                            pc.fill_null(pc.match_substring(trimmed, quoted), False))
        if not pc.any(candidate).as_py():
            continue
        rows = pc.indices_nonzero(candidate).to_pylist()
        docs = trimmed.take(pa.array(rows, pa.int64())).to_pylist()
        hits = [i for i, doc in zip(rows, docs, strict=True) if _has_key(doc, name)]
        if not hits:
            continue
        mask = np.zeros(len(text), dtype=bool)
        mask[hits] = True
        out.append(RowProblem(
            name, "custom_key_clash",
            f"{bag} already has the key {name!r} and the file also has a column {name!r}; one "
            "of the two values would be lost: rename the column or drop the key",
            pc.if_else(pa.array(mask), text, _NULL),
        ))
    return out


def _has_key(doc: str, key: str) -> bool:
    try:
        parsed = json.loads(doc)
    except (ValueError, RecursionError):
        return False  # not a JSON document: it has no key to clash with
    return isinstance(parsed, dict) and key in parsed
