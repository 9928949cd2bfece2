"""The run context of an interface call — apart from the runner registry, so a command that
runs one capability does not import every other one (scipy, LightGBM) to get it."""

from __future__ import annotations

from revloop.analytics.contract import ProgressHook, RunContext
from revloop.settings import Settings, load_settings


def context(settings: Settings | None = None, progress: ProgressHook | None = None) -> RunContext:
    """The run context of an interface call (configured settings unless given)."""
    s = settings or load_settings()
    return RunContext(settings=s, progress=progress) if progress else RunContext(settings=s)
