"""The integrated funnel, as the interfaces call it: requests with the configured defaults,
the runner, exports, charts and the HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from revloop.analytics import funnel
from revloop.analytics.contract import ProgressHook
from revloop.analytics.funnel import (
    DIMENSIONS,
    FunnelRequest,
    FunnelRequestError,
    FunnelResult,
    StageDefinitions,
    definitions_from_settings,
)
from revloop.analytics.funnel.result import period_label
from revloop.facade.context import context
from revloop.settings import Settings, load_settings
from revloop.store import Store

__all__ = [
    "DIMENSIONS",
    "FunnelRequest",
    "FunnelRequestError",
    "FunnelResult",
    "StageDefinitions",
    "build_request",
    "charts",
    "export",
    "period_label",
    "run",
    "stage_definitions",
    "write_html",
]


def stage_definitions(settings: Settings | None = None) -> StageDefinitions:
    """The validated stage definitions of ``revloop.toml`` / ``REVLOOP_FUNNEL``."""
    return definitions_from_settings((settings or load_settings()).funnel)


def build_request(settings: Settings | None = None, **fields: Any) -> FunnelRequest:
    """A request from explicit ``fields`` (None: not given) over the configured defaults."""
    return funnel.request_with_defaults((settings or load_settings()).funnel, **fields)


def run(store: Store, request: FunnelRequest | None = None, *,
        settings: Settings | None = None, progress: ProgressHook | None = None) -> FunnelResult:
    """Compute the funnel report on ``store``."""
    ctx = context(settings, progress)
    return funnel.run(store, request or build_request(ctx.settings), ctx)


def export(result: FunnelResult, folder: str | Path, fmt: str = "parquet",
           raw: bool = False) -> list[Path]:
    """Write every section of ``result`` as ``<section>.parquet`` / ``.csv`` in ``folder``,
    plus ``report.json``; the paths written (CSV formulas neutralised unless ``raw``)."""
    from revloop.analytics.funnel.export import export_result

    return export_result(result, Path(folder), fmt, raw)


def charts(result: FunnelResult, folder: str | Path,
           formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Funnel, velocity and cohort charts (and one per cut) as PNG / SVG files."""
    from revloop.analytics.funnel.plotting import save_charts

    return save_charts(result, Path(folder), formats)


def write_html(result: FunnelResult, path: str | Path) -> Path:
    """The self-contained HTML report (charts embedded, no network needed)."""
    from revloop.analytics.funnel.html import write_report

    return write_report(result, Path(path))
