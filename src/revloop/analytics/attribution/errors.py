"""Errors of the attribution capability (one clear line each, stable codes)."""

from __future__ import annotations

from revloop.errors import RevloopError


class AttributionError(RevloopError):
    """A request the attribution models cannot answer as asked (bad option, missing data)."""

    code = "attribution_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
