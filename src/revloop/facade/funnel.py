"""The integrated funnel, as the interfaces call it: requests with the configured defaults,
the report, exports, charts and the HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from revloop.analytics.funnel import (
    DIMENSIONS,
    FunnelReport,
    FunnelRequest,
    FunnelRequestError,
    FunnelResult,
    StageDefinitions,
    definitions_from_settings,
)
from revloop.analytics.funnel.report import StepHook
from revloop.analytics.funnel.result import period_label
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

# request fields whose default comes from the [funnel] settings
_FROM_SETTINGS = ("window_days", "won_window_days", "reentry", "cohort", "compare",
                  "stall_percentile")


def stage_definitions(settings: Settings | None = None) -> StageDefinitions:
    """The validated stage definitions of ``revloop.toml`` / ``REVLOOP_FUNNEL``."""
    s = settings or load_settings()
    return definitions_from_settings(s.funnel)


def build_request(settings: Settings | None = None, **fields: Any) -> FunnelRequest:
    """A request from explicit ``fields`` (None: not given) over the configured defaults."""
    s = settings or load_settings()
    values = {k: getattr(s.funnel, k) for k in _FROM_SETTINGS}
    values.update({k: v for k, v in fields.items() if v is not None})
    try:
        return FunnelRequest(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        raise FunnelRequestError(f"{where}: {first['msg']}") from None


def run(store: Store, request: FunnelRequest | None = None, *,
        settings: Settings | None = None, step: StepHook | None = None) -> FunnelResult:
    """Compute the funnel report on ``store``."""
    s = settings or load_settings()
    req = request or build_request(s)
    report = FunnelReport(definitions_from_settings(s.funnel), segments=s.funnel.segments,
                          people_with_deals=s.funnel.opportunities_count_for_people)
    return report.run(store, req, step)


def export(result: FunnelResult, folder: str | Path, fmt: str = "parquet") -> list[Path]:
    """Write every section of ``result`` as ``<section>.parquet`` / ``.csv`` in ``folder``,
    plus ``report.json``; the paths written."""
    from revloop.analytics.funnel.export import export_result

    return export_result(result, Path(folder), fmt)


def charts(result: FunnelResult, folder: str | Path,
           formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Funnel, velocity and cohort charts (and one per cut) as PNG / SVG files."""
    from revloop.analytics.funnel.plotting import save_charts

    return save_charts(result, Path(folder), formats)


def write_html(result: FunnelResult, path: str | Path) -> Path:
    """The self-contained HTML report (charts embedded, no network needed)."""
    from revloop.analytics.funnel.html import write_report

    return write_report(result, Path(path))
