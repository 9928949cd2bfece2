"""Same seed → byte-identical output, whatever the number of worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from revloop.generator.company import generate
from revloop.generator.config import GeneratorConfig


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_same_bytes(tmp_path: Path, fmt: str) -> None:
    cfg = GeneratorConfig(scale=0.01, seed=7)
    generate(cfg, tmp_path / "a", fmt=fmt, workers=1)
    generate(cfg, tmp_path / "b", fmt=fmt, workers=1)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(a) == 23  # 15 entities, 7 truth tables, the manifest
    assert a == b


def test_workers_do_not_change_the_output(tmp_path: Path) -> None:
    cfg = GeneratorConfig(scale=0.1, seed=2)  # 3,000 accounts: two blocks
    generate(cfg, tmp_path / "one", workers=1)
    generate(cfg, tmp_path / "two", workers=2)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")


def test_another_seed_is_another_company(tmp_path: Path) -> None:
    generate(GeneratorConfig(scale=0.01, seed=1), tmp_path / "a", workers=1)
    generate(GeneratorConfig(scale=0.01, seed=2), tmp_path / "b", workers=1)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a["touchpoints.parquet"] != b["touchpoints.parquet"]
