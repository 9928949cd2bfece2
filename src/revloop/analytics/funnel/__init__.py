"""The integrated funnel: one waterfall from first touch to renewal.

Modules, in the order data flows through them:

* ``stages`` — the waterfall, exits, post-sale events and the source-value maps (validated);
* ``request`` — what a report is asked for (level, cuts, cohort unit, range, windows);
* ``events`` — the level's event log from ``stage_transitions`` (Ibis);
* ``journeys`` — member passes and journeys: entry times, status, current stage (Ibis);
* ``dimensions`` — the attributes the funnel is cut by (Ibis);
* ``percentiles`` — exact order-statistic percentiles, identical on every engine;
* ``metrics`` — conversion, velocity, time in stage, stalls, cohorts, cuts, leakage, status;
* ``report`` — the report that puts them together; ``runner`` — ``run(store, request)``,
  the runner the interfaces call; ``result`` — the typed result;
* ``export``, ``plotting``, ``html`` — files, charts and the self-contained HTML report.
"""

from revloop.analytics.funnel.report import FunnelReport
from revloop.analytics.funnel.request import (
    DIMENSIONS,
    FunnelRequest,
    FunnelRequestError,
    request_with_defaults,
)
from revloop.analytics.funnel.result import FunnelResult
from revloop.analytics.funnel.runner import run
from revloop.analytics.funnel.stages import StageDefinitions, definitions_from_settings

__all__ = [
    "DIMENSIONS",
    "FunnelReport",
    "FunnelRequest",
    "FunnelRequestError",
    "FunnelResult",
    "StageDefinitions",
    "definitions_from_settings",
    "request_with_defaults",
    "run",
]
