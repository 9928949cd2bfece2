"""What a funnel report is asked for: the typed request, checked before any query runs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from revloop.analytics.contract import Request
from revloop.errors import RevloopError
from revloop.settings import FunnelSettings

Level = Literal["lead", "account", "opportunity"]
Period = Literal["week", "month", "quarter"]
Reentry = Literal["first", "cycle"]

#: Dimensions every level can be cut by (``custom.<key>`` reads the level's JSON attributes).
DIMENSIONS: dict[str, str] = {
    "channel": "first-touch channel (the lead source / opportunity source when no touch)",
    "lead_source": "lead source as the source system names it",
    "campaign": "first-touch campaign (the opportunity's primary campaign)",
    "segment": "account size segment by employees (funnel.segments)",
    "industry": "account industry",
    "country": "country of the person, else of the account",
    "owner": "owning user",
    "team": "team of the owning user",
    "product": "product of the first new-business opportunity",
    "opportunity_type": "new / renewal / expansion (opportunity level)",
}
_CUSTOM = re.compile(r"^custom\.([A-Za-z0-9_ \-]{1,64})$")


class FunnelRequestError(RevloopError):
    """A funnel request that cannot be answered as asked (bad dimension, empty range …)."""

    code = "funnel_request_error"


class FunnelRequest(Request):
    """One funnel report. Times are naive UTC; ``start``/``end`` bound a half-open range."""

    error: ClassVar[type[RevloopError]] = FunnelRequestError

    level: Level = "lead"
    by: tuple[str, ...] = Field(default=(), description="Dimensions to cut by, one cut each")
    cohort: Period = "month"
    start: dt.datetime | None = Field(default=None, description="Entries from (inclusive)")
    end: dt.datetime | None = Field(default=None, description="Entries until (exclusive)")
    as_of: dt.datetime | None = Field(
        default=None, description="The report's now; events after it are ignored (default: "
        "the latest event of the level)")
    window_days: float | None = Field(default=None, gt=0)
    won_window_days: float | None = Field(default=None, gt=0)
    reentry: Reentry = "first"
    compare: Period = "month"
    stall_percentile: int = Field(default=90, ge=1, le=99)
    stalled_limit: int = Field(default=100, ge=0, description="Stalled entities listed")
    all_stages: bool = Field(
        default=False, description="Show stages no transition records (implied ones) too")

    @field_validator("by", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v for v in value.split(",")]
        if isinstance(value, list | tuple):
            return tuple(str(v).strip() for v in value if str(v).strip())
        return value

    @field_validator("start", "end", "as_of")
    @classmethod
    def _naive(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    @model_validator(mode="after")
    def _check(self) -> FunnelRequest:
        for d in self.by:
            if d not in DIMENSIONS and not _CUSTOM.match(d):
                raise FunnelRequestError(
                    f"unknown dimension {d!r}: use one of {', '.join(DIMENSIONS)} or "
                    "custom.<attribute>")
        if len(set(self.by)) != len(self.by):
            raise FunnelRequestError("a dimension is listed twice in --by")
        if self.start and self.end and self.start >= self.end:
            raise FunnelRequestError(
                f"--from {self.start:%Y-%m-%d} is not before --to {self.end:%Y-%m-%d}")
        if self.reentry == "cycle" and self.level == "account":
            raise FunnelRequestError(
                "--reentry cycle applies to leads and opportunities; an account's passes are "
                "those of its people and deals, so accounts always use 'first'")
        return self


def custom_key(dimension: str) -> str | None:
    """The attribute name of a ``custom.<key>`` dimension, else None."""
    m = _CUSTOM.match(dimension)
    return m.group(1) if m else None


#: Request fields whose default comes from the ``[funnel]`` settings.
FROM_SETTINGS = ("window_days", "won_window_days", "reentry", "cohort", "compare",
                 "stall_percentile")


def request_with_defaults(settings: FunnelSettings, **fields: Any) -> FunnelRequest:
    """A request from explicit ``fields`` (None: not given) over the configured defaults."""
    values = {k: getattr(settings, k) for k in FROM_SETTINGS}
    values.update({k: v for k, v in fields.items() if v is not None})
    return FunnelRequest(**values)
