"""The funnel runner: a :class:`FunnelRequest` in, a :class:`FunnelResult` out.

The stage definitions, size segments and whether a person's deals count for the person come
from the ``[funnel]`` settings of the run's context; :class:`FunnelReport` does the work.
"""

from __future__ import annotations

from revloop.analytics.contract import RunContext
from revloop.analytics.funnel.report import FunnelReport
from revloop.analytics.funnel.request import FunnelRequest
from revloop.analytics.funnel.result import FunnelResult
from revloop.analytics.funnel.stages import definitions_from_settings
from revloop.store import Store


def run(store: Store, request: FunnelRequest,
        context: RunContext | None = None) -> FunnelResult:
    """Compute the funnel report of ``request`` on ``store``."""
    ctx = context or RunContext()
    f = ctx.settings.funnel
    report = FunnelReport(definitions_from_settings(f), segments=f.segments,
                          people_with_deals=f.opportunities_count_for_people)
    return report.run(store, request, ctx.progress)
