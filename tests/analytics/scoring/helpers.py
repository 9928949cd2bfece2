"""Loading generated worlds into a store for the scoring tests."""

from __future__ import annotations

from pathlib import Path

from revloop import facade
from revloop.store import Store
from tests.analytics.scoring.world import World


def load_world(store: Store, world: World, folder: Path, truth: bool = True) -> None:
    """Import the world's canonical files, build the model, store the truth tables."""
    result = facade.import_files(store, "canonical", world.write(folder))
    assert result.reconciles and result.total("quarantined") == 0
    facade.build_model(store)
    if truth:
        for name, table in world.truth.items():
            store.write_arrow(name, table)
