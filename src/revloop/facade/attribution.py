"""Attribution for the interfaces: run on the store or on a path file, export, chart."""

from __future__ import annotations

import json
from pathlib import Path

from revloop.analytics.attribution import runner
from revloop.analytics.attribution.catalog import MODEL_NAMES, model_names
from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.plotting import plot_credits, plot_sourced_influenced
from revloop.analytics.attribution.request import AttributionRequest, PathAttributionRequest
from revloop.analytics.attribution.result import AttributionResult
from revloop.analytics.contract import ProgressHook
from revloop.facade.context import context
from revloop.settings import Settings
from revloop.store import Store
from revloop.tabular import write_table_file

__all__ = [
    "MODEL_NAMES",
    "AttributionError",
    "AttributionRequest",
    "AttributionResult",
    "PathAttributionRequest",
    "chart",
    "export",
    "model_names",
    "run",
    "run_paths",
]


def run(store: Store, request: AttributionRequest, *, settings: Settings | None = None,
        progress: ProgressHook | None = None) -> AttributionResult:
    """Attribute the store's journeys (after ``revloop build``)."""
    return runner.run(store, request, context(settings, progress))


def run_paths(request: PathAttributionRequest, *, settings: Settings | None = None,
              progress: ProgressHook | None = None) -> AttributionResult:
    """Attribute an aggregated path file (``path, conversions, nulls, value``)."""
    return runner.run_paths(None, request, context(settings, progress))


def export(result: AttributionResult, path: str | Path, raw: bool = False) -> int:
    """Write the credits (one row per model and group) as Parquet or CSV, or the whole result
    as JSON, by the file's suffix; rows written (CSV formulas neutralised unless ``raw``)."""
    out = Path(path)
    suffix = out.suffix.lower()
    table = result.tables()["credits"]
    if suffix == ".json":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        return int(table.num_rows)
    if suffix not in (".parquet", ".pq", ".csv"):
        raise AttributionError(f"{out}: write .parquet, .csv or .json", code="bad_output")
    return write_table_file(table, out, raw=raw)


def chart(result: AttributionResult, path: str | Path) -> list[Path]:
    """Draw the credits chart (and the sourced-vs-influenced chart when there is one)."""
    written = plot_credits(result, path)
    if result.sourced_influenced:
        p = Path(path)
        written += plot_sourced_influenced(result, p.with_name(p.stem + "_sourced" + p.suffix))
    return written
