"""The truth's books against an independent re-simulation: the same world in which a
channel's touches still happen but cause nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from revloop.errors import ConfigError
from revloop.generator.company import generate
from revloop.generator.config import GeneratorConfig, WorldParams

BASE = GeneratorConfig(scale=0.05, seed=3)


@pytest.fixture(scope="module")
def factual(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("factual") / "company"
    generate(BASE, folder, workers=1)
    return folder


def _windows(folder: Path) -> list[dict[str, object]]:
    return pq.read_table(folder / "truth" / "truth_in_market_windows.parquet").to_pylist()


@pytest.mark.parametrize("channel", ["events", "paid_search", "email", "direct"])
def test_incremental_opportunities_match_the_world_without_the_channel(
        factual: Path, tmp_path: Path, channel: str) -> None:
    without = tmp_path / "without"
    generate(replace(BASE, params=WorldParams(removed_channels=(channel,))), without,
             workers=1)
    before = {w["window_id"]: w["converted"] for w in _windows(factual)}
    after = {w["window_id"]: w["converted"] for w in _windows(without)}
    assert before.keys() == after.keys()  # the same buying windows in both worlds
    assert all(after[k] <= before[k] for k in before)  # removing a cause never adds a deal
    lost = sum(before.values()) - sum(after.values())
    fx = pq.read_table(factual / "truth" / "truth_channel_effects.parquet")
    row = fx.filter(pc.equal(fx["channel"], channel)).to_pylist()[0]
    assert row["incremental_opportunities"] == lost
    assert (lost > 0) == (channel != "direct")


def test_unknown_removed_channel_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown channel"):
        GeneratorConfig(params=WorldParams(removed_channels=("carrier_pigeon",)))


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": 0}, "positive"), ({"scale": 1000}, "maximum"), ({"seed": -1}, "seed"),
    ({"days": 10}, "days"),
])
def test_bad_configs(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GeneratorConfig(**kwargs)  # type: ignore[arg-type]


def test_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        generate(GeneratorConfig(scale=0.01), tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
