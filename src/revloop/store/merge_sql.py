"""The merge of staged import rows into a raw table, as SQL shared by the engines.

Staged rows carry the canonical columns plus ``_seq`` (order within the import), ``_file`` and
``_line``. The merge keys every row by its natural key and hashes its content, then:

* a row whose key already appeared earlier in the same import with the same content is an
  exact duplicate; with different content it is a *conflict* (quarantined, the first kept);
* a first occurrence whose key and hash are already stored is a duplicate of the store;
* with a stored key but another hash it *updates* the stored version (exports are snapshots);
* otherwise it is inserted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from revloop.schema import ColumnType, Entity


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between engines."""

    text_type: str
    sep: str  # an expression for the key/hash separator character
    null_marker: str  # stands for NULL inside keys and hashes
    native_hash: bool = False  # a fast multi-argument row hash (DuckDB's hash())


DUCKDB = Dialect(text_type="VARCHAR", sep="chr(31)", null_marker="chr(30)", native_hash=True)
POSTGRES = Dialect(text_type="TEXT", sep="chr(31)", null_marker="chr(30)")
SPARK = Dialect(text_type="STRING", sep="char(31)", null_marker="char(30)")


def _text(col: str, d: Dialect) -> str:
    # A marker for NULL keeps (NULL, 'a') and ('a', NULL) apart in keys and hashes.
    return f"coalesce(cast({col} AS {d.text_type}), {d.null_marker})"


def key_expr(entity: Entity, d: Dialect) -> str:
    """SQL for the natural key of a row as one string."""
    if len(entity.key) == 1:
        return f"cast({entity.key[0]} AS {d.text_type})"
    return f"concat_ws({d.sep}, " + ", ".join(_text(c, d) for c in entity.key) + ")"


def hash_expr(entity: Entity, d: Dialect) -> str:
    """SQL for the content hash of a row's canonical columns.

    Hashes are only ever compared between versions of the same key, so DuckDB's 64-bit row
    hash is as safe as md5 here and several times faster."""
    if d.native_hash:
        return f"cast(hash({', '.join(entity.column_names)}) AS VARCHAR)"
    parts = ", ".join(_text(c, d) for c in entity.column_names)
    return f"md5(concat_ws({d.sep}, {parts}))"


def keyed_select(entity: Entity, stage: str, d: Dialect) -> str:
    """Staged rows with ``_key`` and ``_hash`` added."""
    return (
        f"SELECT *, {key_expr(entity, d)} AS _key, {hash_expr(entity, d)} AS _hash FROM {stage}"
    )


def first_seen_select(keyed: str, d: Dialect | None = None) -> str:
    """Keys that occur more than once in the import, with their first row's position and hash.

    With a native 64-bit hash, the keys are first grouped by their hash: grouping integers is
    twice as fast as grouping strings, and only keys whose hash repeats are grouped again by
    value (a collision costs a few rows of work, never a wrong answer)."""
    where = (f" WHERE hash(_key) IN (SELECT h FROM (SELECT hash(_key) AS h FROM {keyed} "
             f"GROUP BY h HAVING count(*) > 1) c)" if d is not None and d.native_hash else "")
    return (
        f"SELECT f._key, f.first_seq, k._hash AS first_hash, k._file AS first_file, "
        f"k._line AS first_line FROM (SELECT _key, min(_seq) AS first_seq FROM {keyed}{where} "
        f"GROUP BY _key HAVING count(*) > 1) f JOIN {keyed} k "
        f"ON k._key = f._key AND k._seq = f.first_seq"
    )


def unique_select(keyed: str, first: str) -> str:
    """First occurrence of every key in the import."""
    return (
        f"SELECT k.* FROM {keyed} k LEFT JOIN {first} f ON k._key = f._key "
        f"WHERE f._key IS NULL OR k._seq = f.first_seq"
    )


def repeat_counts_select(keyed: str, first: str) -> str:
    """Later rows of repeated keys: exact duplicates and conflicts."""
    return (
        f"SELECT coalesce(sum(CASE WHEN k._hash = f.first_hash THEN 1 ELSE 0 END), 0) AS dups, "
        f"coalesce(sum(CASE WHEN k._hash <> f.first_hash THEN 1 ELSE 0 END), 0) AS conflicts "
        f"FROM {keyed} k JOIN {first} f ON k._key = f._key WHERE k._seq <> f.first_seq"
    )


def conflicts_select(keyed: str, first: str) -> str:
    """Later rows of repeated keys whose content differs from the first one."""
    return (
        f"SELECT k._file, k._line, k._key, f.first_file, f.first_line FROM {keyed} k "
        f"JOIN {first} f ON k._key = f._key WHERE k._seq <> f.first_seq "
        f"AND k._hash <> f.first_hash ORDER BY k._seq"
    )


def classified_select(unique: str, raw: str) -> str:
    """Each unique staged key with the hash already stored for it (NULL when new)."""
    return (
        f"SELECT u._key, u._hash, r._hash AS old_hash FROM {unique} u "
        f"LEFT JOIN {raw} r ON u._key = r._key"
    )


def class_counts_select(classified: str) -> str:
    """Inserted, updated and already-stored counts."""
    return (
        "SELECT "
        "coalesce(sum(CASE WHEN old_hash IS NULL THEN 1 ELSE 0 END), 0) AS inserted, "
        "coalesce(sum(CASE WHEN old_hash IS NOT NULL AND old_hash <> _hash THEN 1 ELSE 0 END), 0)"
        " AS updated, "
        "coalesce(sum(CASE WHEN old_hash = _hash THEN 1 ELSE 0 END), 0) AS stored_dups "
        f"FROM {classified}"
    )


def new_rows_select(entity: Entity, unique: str, classified: str, import_id: str) -> str:
    """The rows to write: new keys and changed versions."""
    cols = ", ".join(f"u.{c}" for c in entity.column_names)
    return (
        f"SELECT {cols}, u._key, u._hash, '{import_id}' AS _import_id FROM {unique} u "
        f"JOIN {classified} c ON u._key = c._key "
        f"WHERE c.old_hash IS NULL OR c.old_hash <> c._hash"
    )


def changed_keys_select(classified: str) -> str:
    """Keys whose stored version is replaced."""
    return f"SELECT _key FROM {classified} WHERE old_hash IS NOT NULL AND old_hash <> _hash"


# -- In-place variant for engines with DELETE (DuckDB, PostgreSQL): no full copies of the stage.

def later_repeats_delete(stage: str, first: str) -> str:
    """Remove every row of a repeated key but its first from the (keyed) stage."""
    return (
        f"DELETE FROM {stage} WHERE _seq IN (SELECT k._seq FROM {stage} k JOIN {first} f "
        f"ON k._key = f._key WHERE k._seq <> f.first_seq)"
    )


def stored_class_counts_select(stage: str, raw: str) -> str:
    """Inserted, updated and already-stored counts of a stage holding unique keys."""
    return class_counts_select(f"({classified_select(stage, raw)}) c")


def changed_delete(stage: str, raw: str) -> str:
    """Drop the stored versions that the stage replaces."""
    return (
        f"DELETE FROM {raw} WHERE _key IN (SELECT u._key FROM {stage} u JOIN {raw} r "
        f"ON u._key = r._key WHERE u._hash <> r._hash)"
    )


def new_rows_insert(entity: Entity, stage: str, raw: str, import_id: str,
                    anti_join: bool = True) -> str:
    """Insert staged rows whose key is not stored (after :func:`changed_delete`)."""
    cols = ", ".join(entity.column_names)
    ucols = ", ".join(f"u.{c}" for c in entity.column_names)
    where = (f" WHERE NOT EXISTS (SELECT 1 FROM {raw} r WHERE r._key = u._key)"
             if anti_join else "")
    return (
        f"INSERT INTO {raw} ({cols}, _key, _hash, _import_id) "
        f"SELECT {ucols}, u._key, u._hash, '{import_id}' FROM {stage} u{where}"
    )


def rekeyed_select(entity: Entity, raw: str, present: Collection[str],
                   type_names: Mapping[ColumnType, str], d: Dialect) -> str:
    """The rows of ``raw`` in the entity's current shape, for migrations: columns the schema
    added since the table was written are NULL, ``_key`` and ``_hash`` are recomputed (so a
    re-import of the same file still finds its rows), ``_import_id`` is kept."""
    cols = [c.name if c.name in present else f"CAST(NULL AS {type_names[c.type]}) AS {c.name}"
            for c in entity.columns]
    inner = f"SELECT {', '.join(cols)}, _import_id FROM {raw}"
    return (f"SELECT {', '.join(entity.column_names)}, {key_expr(entity, d)} AS _key, "
            f"{hash_expr(entity, d)} AS _hash, _import_id FROM ({inner}) s")
