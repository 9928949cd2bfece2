"""Attribution for the interfaces: run on a path file or on the store, export, chart."""

from __future__ import annotations

import json
from pathlib import Path

from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.journeys import JourneyRequest
from revloop.analytics.attribution.pathfile import PathFileOptions, read_path_file
from revloop.analytics.attribution.plotting import plot_credits, plot_sourced_influenced
from revloop.analytics.attribution.runner import (
    MODEL_NAMES,
    AttributionResult,
    ModelOptions,
    attribute_journeys,
    attribute_store,
    model_names,
)
from revloop.store import Store

#: What to attribute from the store (level, grouping, metric, windows, exclusions).
StoreRequest = JourneyRequest

__all__ = [
    "MODEL_NAMES",
    "AttributionError",
    "AttributionResult",
    "ModelOptions",
    "PathFileOptions",
    "StoreRequest",
    "attribute",
    "attribute_paths",
    "chart",
    "export",
    "model_names",
]

_FILE_METRICS = {"conversions": "conversions", "value": "value", "revenue": "value",
                 "pipeline": "value"}


def attribute_paths(file: str | Path, models: ModelOptions,
                    file_options: PathFileOptions | None = None,
                    metric: str = "conversions") -> AttributionResult:
    """Attribute an aggregated path file (``path, conversions, nulls, value``)."""
    if metric not in _FILE_METRICS:
        raise AttributionError(f"metric {metric!r} does not apply to a path file; use "
                               "conversions or value", code="bad_metric")
    opts = file_options or PathFileOptions()
    journeys, notes = read_path_file(file, opts)
    return attribute_journeys(
        journeys, models,
        source={"kind": "paths", "file": str(file), "by": "channel", "sep": opts.sep},
        metric=_FILE_METRICS[metric], notes=notes,
    )


def attribute(store: Store, request: StoreRequest,
              models: ModelOptions) -> AttributionResult:
    """Attribute the store's journeys (after ``revloop build``)."""
    return attribute_store(store, request, models)


def export(result: AttributionResult, path: str | Path) -> int:
    """Write the credits (one row per model and group) as Parquet or CSV, or the whole result
    as JSON, by the file's suffix; rows written."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = result.to_arrow()
    suffix = out.suffix.lower()
    if suffix in (".parquet", ".pq"):
        pq.write_table(table, out)
    elif suffix == ".csv":
        pacsv.write_csv(table, out)
    elif suffix == ".json":
        out.write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n",
                       encoding="utf-8")
    else:
        raise AttributionError(f"{out}: write .parquet, .csv or .json", code="bad_output")
    return int(table.num_rows)


def chart(result: AttributionResult, path: str | Path) -> list[Path]:
    """Draw the credits chart (and the sourced-vs-influenced chart when there is one)."""
    written = plot_credits(result, path)
    if result.sourced_influenced:
        p = Path(path)
        written += plot_sourced_influenced(result, p.with_name(p.stem + "_sourced" + p.suffix))
    return written
