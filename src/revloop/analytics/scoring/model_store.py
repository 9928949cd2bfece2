"""Trained models, versioned, in the store itself (table ``scoring_models``).

One row per version: ``model_id`` (``<name>@<version>``), ``name``, ``version``,
``created_at``, ``card`` (the model card, JSON) and ``payload`` (everything needed to score:
the LightGBM model as its own text format, the calibrator, the score reference and the
feature plan — JSON, never pickle, so loading a model cannot run code and a model stays
readable across library versions). Kept in the store rather than in files so models travel
with the data they were trained on — one backup, one access control, and the same on a
shared PostgreSQL or Spark deployment where there is no common folder.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from revloop.analytics.scoring.errors import ModelNotFoundError
from revloop.store import Store

MODELS_TABLE = "scoring_models"
_SCHEMA = pa.schema([
    ("model_id", pa.string()), ("name", pa.string()), ("version", pa.int64()),
    ("created_at", pa.timestamp("us")), ("card", pa.string()), ("payload", pa.string()),
])


@dataclass(frozen=True)
class StoredModel:
    """One stored version."""

    model_id: str
    name: str
    version: int
    created_at: dt.datetime
    card: dict[str, Any]
    payload: dict[str, Any]


def _existing(store: Store) -> pa.Table:
    if MODELS_TABLE not in store.list_tables():
        return _SCHEMA.empty_table()
    table: pa.Table = store.table(MODELS_TABLE).to_pyarrow()
    return table.select(_SCHEMA.names).cast(_SCHEMA)


def save_model(store: Store, name: str, card: dict[str, Any], payload: dict[str, Any],
               created_at: dt.datetime | None = None) -> StoredModel:
    """Store a new version of model ``name``; return it with its version number."""
    table = _existing(store)
    versions = [v for n, v in zip(table.column("name").to_pylist(),
                                  table.column("version").to_pylist(), strict=True)
                if n == name]
    version = max(versions, default=0) + 1
    when = created_at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    model_id = f"{name}@{version}"
    card = {**card, "model_id": model_id, "version": version, "created_at": when.isoformat()}
    row = pa.table({
        "model_id": [model_id], "name": [name], "version": [version], "created_at": [when],
        "card": [json.dumps(card, default=str)], "payload": [json.dumps(payload)],
    }, schema=_SCHEMA)
    store.write_arrow(MODELS_TABLE, pa.concat_tables([table, row]))
    return StoredModel(model_id, name, version, when, card, payload)


def load_model(store: Store, name: str, version: int | None = None) -> StoredModel:
    """The latest (or the given) version of model ``name``."""
    if MODELS_TABLE not in store.list_tables():
        raise ModelNotFoundError(f"no trained {name} model in this store: run `revloop score "
                                 f"train {name}` first")
    t = store.table(MODELS_TABLE)
    t = t.filter(t.name == name)
    if version is not None:
        t = t.filter(t.version == version)
    rows = t.order_by(t.version.desc()).limit(1).to_pyarrow().to_pylist()
    if not rows:
        which = f"version {version} of {name}" if version is not None else f"{name} model"
        raise ModelNotFoundError(f"no trained {which} in this store: run `revloop score "
                                 f"train {name}` first (stored: `revloop score models`)")
    r = rows[0]
    return StoredModel(r["model_id"], r["name"], int(r["version"]), r["created_at"],
                       json.loads(r["card"]), json.loads(r["payload"]))


def list_models(store: Store) -> list[dict[str, Any]]:
    """Every stored version (cards only), newest first."""
    if MODELS_TABLE not in store.list_tables():
        return []
    t = store.table(MODELS_TABLE)
    rows = t.select("model_id", "name", "version", "created_at", "card").order_by(
        [t.name, t.version.desc()]).to_pyarrow().to_pylist()
    return [{**{k: r[k] for k in ("model_id", "name", "version", "created_at")},
             "card": json.loads(r["card"])} for r in rows]
