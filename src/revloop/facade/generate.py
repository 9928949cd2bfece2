"""Generate the synthetic company, and optionally load it into a store through the real
importer, build the model and store the ground truth beside it."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from revloop.errors import ConfigError
from revloop.facade import build_model, import_files, open_store
from revloop.generator.company import BLOCK_ENTITIES, GenerateResult, ProgressHook, generate
from revloop.generator.config import GeneratorConfig
from revloop.generator.profile import CompanyProfile, company_profile
from revloop.ingest.pipeline import ImportResult
from revloop.ingest.pipeline import ProgressHook as ImportProgressHook
from revloop.settings import Settings

__all__ = ["CompanyOutcome", "CompanyProfile", "company_profile", "generate_company"]


@dataclass
class CompanyOutcome:
    """What ``revloop generate`` did."""

    generated: GenerateResult
    profile: CompanyProfile
    out: str | None = None  # where the files are (None: they were only loaded into ``db``)
    db: str | None = None
    imported: ImportResult | None = None
    marts: dict[str, int] = field(default_factory=dict)
    truth_tables: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated": self.generated.to_dict(),
            "profile": self.profile.to_dict(),
            "out": self.out,
            "db": self.db,
            "import": self.imported.to_dict() if self.imported else None,
            "marts": self.marts,
            "truth_tables": self.truth_tables,
        }


def generate_company(
    scale: float, seed: int, *, out: str | Path | None = None, db: str | None = None,
    fmt: str = "parquet", workers: int | None = None, start: dt.date | None = None,
    days: int | None = None, settings: Settings | None = None,
    progress: ProgressHook | None = None, import_progress: ImportProgressHook | None = None,
    build_step: Callable[[str], None] | None = None,
) -> CompanyOutcome:
    """Write the company of (``scale``, ``seed``) to ``out`` and/or load it into ``db``."""
    if out is None and db is None:
        raise ConfigError("say where the company goes: --out DIR (files), --db URL (a store), "
                          "or both")
    cfg_args: dict[str, Any] = {"scale": scale, "seed": seed}
    if start is not None:
        cfg_args["start"] = start
    if days is not None:
        cfg_args["days"] = days
    cfg = GeneratorConfig(**cfg_args)
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="revloop-gen-"))
    if out is None:
        folder.rmdir()  # generate() wants to create it
    try:
        generated = generate(cfg, folder, fmt=fmt, progress=progress, workers=workers)
        outcome = CompanyOutcome(generated=generated, profile=company_profile(folder),
                                 out=str(out) if out is not None else None, db=db)
        if db is not None:
            _load(outcome, db, settings, import_progress, build_step)
    finally:
        if out is None:
            shutil.rmtree(folder, ignore_errors=True)
    return outcome


def _load(outcome: CompanyOutcome, db: str, settings: Settings | None,
          import_progress: ImportProgressHook | None,
          build_step: Callable[[str], None] | None) -> None:
    generated = outcome.generated
    files = [Path(p) for p in generated.files.values()]
    # block entities last, so their references land after what they point to
    files.sort(key=lambda p: (p.stem in BLOCK_ENTITIES, p.stem))
    store = open_store(db, settings)
    try:
        outcome.imported = import_files(store, "canonical", files, settings=settings,
                                        progress=import_progress)
        outcome.marts = build_model(store, settings, step=build_step)
        for name, path in sorted(generated.truth_files.items()):
            p = Path(path)
            table = pq.read_table(p) if p.suffix == ".parquet" else pacsv.read_csv(p)
            store.write_arrow(name, table)
            outcome.truth_tables[name] = table.num_rows
    finally:
        store.close()
