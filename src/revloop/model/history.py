"""The build history (``builds``): when each build ran and how it ended.

A build records itself as ``running`` before its first step and ``complete`` after its marts
are in force. A ``running`` row that the next build finds belongs to a build that was killed
or interrupted: the next build marks it ``interrupted`` and says so (its partial tables were
never put in force)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pyarrow as pa

from revloop.schema import BUILD_COLUMNS
from revloop.store.base import BUILDS, Store, arrow_schema

_SCHEMA = arrow_schema(BUILD_COLUMNS)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _rows(store: Store) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = store.table(BUILDS).to_pyarrow().to_pylist()
    return rows


def _write(store: Store, rows: list[dict[str, object]]) -> None:
    store.write_arrow(BUILDS, pa.Table.from_pylist(rows, schema=_SCHEMA))


def start(store: Store) -> str:
    """Record a new build as running (and any build left running as interrupted)."""
    rows = _rows(store)
    for row in rows:
        if row["status"] == "running":
            row["status"] = "interrupted"
            store.on_notice(f"the build started at {row['started_at']} did not finish; the "
                            "marts in force are still those of the last complete build")
    build_id = f"{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    rows.append({"build_id": build_id, "started_at": _now(), "finished_at": None,
                 "status": "running", "marts": None})
    _write(store, rows)
    return build_id


def finish(store: Store, counts: dict[str, int]) -> None:
    """Record the running build as complete, with the row counts of its marts."""
    rows = _rows(store)
    for row in rows:
        if row["status"] == "running":
            row.update(status="complete", finished_at=_now(), marts=json.dumps(counts))
    _write(store, rows)


def last(store: Store) -> dict[str, object] | None:
    """The latest build (any status), or None."""
    rows = sorted(_rows(store), key=lambda r: str(r["started_at"]))
    return rows[-1] if rows else None
